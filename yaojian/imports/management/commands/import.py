"""``yaojian import KIND FILE``: the command-line import, through the same engine as the upload page."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yaojian.imports.engine import run_import
from yaojian.imports.jobs import summary
from yaojian.imports.specs import all_specs

SHOWN_ERRORS = 50


class ProgressBar:
    """Rows done / total on stderr, rewritten in place."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width, self.drawn = stream, width, False

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        filled = self.width * min(done, total) // total
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} 行")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "批量导入数据：yaojian import KIND FILE [--skip-invalid] [--rejects FILE] [--user USERNAME]"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(all_specs()))
        parser.add_argument("file")
        parser.add_argument("--skip-invalid", action="store_true", help="导入正确行，错误行写入拒绝文件")
        parser.add_argument("--rejects", help="拒绝行 CSV 的路径（默认 FILE.rejects.csv）")
        parser.add_argument("--user", help="以该用户身份导入（检查权限与辖区）；缺省为系统")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, kind, file, skip_invalid, rejects, user, no_progress, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"用户不存在：{user}")
        rejects_path = Path(rejects) if rejects else path.with_name(path.name + ".rejects.csv")
        bar = None if no_progress else ProgressBar(sys.stderr)
        try:
            result = run_import(
                kind, path, actor=actor, skip_invalid=skip_invalid, rejects_path=rejects_path, progress=bar
            )
        finally:
            if bar:
                bar.close()
        for error in result.errors[:SHOWN_ERRORS]:
            column = f"[{error.column}] " if error.column else ""
            self.stderr.write(f"第{error.row}行 {column}“{error.value}”：{error.reason}")
        if result.error_count > SHOWN_ERRORS:
            self.stderr.write(f"……共{result.error_count}处错误（{result.rejected}行），仅显示前{SHOWN_ERRORS}处")
        self.stdout.write(summary(result))
        if skip_invalid and result.rejected:
            self.stdout.write(f"拒绝行已写入：{rejects_path}")
        if not result.ok or (result.created + result.updated == 0 and result.rejected):
            raise CommandError("未导入任何数据" if not result.ok else "没有可导入的正确行")
