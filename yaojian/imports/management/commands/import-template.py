"""``yaojian import-template KIND --out FILE``: write the import template (.xlsx or .csv by extension)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from yaojian.imports.blanks import template_csv, template_xlsx
from yaojian.imports.specs import all_specs, get_spec


class Command(BaseCommand):
    help = "生成导入模板：yaojian import-template KIND --out FILE（.xlsx 或 .csv）"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(all_specs()))
        parser.add_argument("--out", required=True)

    def handle(self, *args, kind, out, **options):
        spec, path = get_spec(kind), Path(out)
        path.write_bytes(template_csv(spec) if path.suffix.lower() == ".csv" else template_xlsx(spec))
        self.stdout.write(f"已生成{spec.title}导入模板：{path}")
