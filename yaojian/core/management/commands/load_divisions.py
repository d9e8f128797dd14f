"""``yaojian load_divisions FILE`` — load a newer GB/T 2260 table (CSV with code,name)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yaojian.core import divisions
from yaojian.core.identifiers import check_division_code
from yaojian.core.models import Division


class Command(BaseCommand):
    help = "导入或更新行政区划代码表（CSV：code,name）"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file, **options):
        rows = divisions.read_table(file)
        for line, (code, _name) in enumerate(rows, start=2):
            reason = check_division_code(code)
            if reason:
                raise CommandError(f"第 {line} 行 代码“{code}”：{reason}")
        written = divisions.load(Division, rows)
        self.stdout.write(self.style.SUCCESS(f"行政区划：写入 {written} 条，共 {Division.objects.count()} 条"))
