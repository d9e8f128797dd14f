"""``yaojian casework`` — reaction dictionary, coding and duplicate detection from the command line.

* ``load-terms --dictionary yaojian [PATH]`` loads the project dictionary (default: the shipped CSV);
  ``load-terms --dictionary meddra PATH`` loads a licensed MedDRA ASCII folder (pt/llt/soc/mdhier.asc).
* ``code`` codes every uncoded reaction the dictionary maps (run after imports).
* ``dedupe`` scores likely duplicate pairs and queues new ones.

Each writes one audit record, as the system (no user).
"""

from django.core.management.base import BaseCommand, CommandError

from yaojian.casework import coding, dedupe
from yaojian.casework import dictionary as terms


class Command(BaseCommand):
    help = "病例处理：load-terms 加载术语集；code 自动编码；dedupe 识别重复报告"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load-terms", help="加载不良反应术语集（幂等，可重复执行）")
        load.add_argument("--dictionary", choices=(terms.YAOJIAN, terms.MEDDRA), default=terms.YAOJIAN)
        load.add_argument("path", nargs="?", help="yaojian：CSV 文件（默认内置术语集）；meddra：MedAscii 目录")
        load.add_argument("--version", default="", help="MedDRA 版本（默认读取 meddra_release.asc）")
        sub.add_parser("code", help="按术语集对未编码的不良反应自动编码")
        sub.add_parser("dedupe", help="识别疑似重复报告并加入审核队列")

    def handle(self, *args, action, **opts):
        if action == "load-terms":
            return self.load_terms(**opts)
        if action == "code":
            result = coding.code_pending()
            self.stdout.write(self.style.SUCCESS(f"未编码 {result.pending} 条，本次编码 {result.coded} 条"))
            return
        result = dedupe.find_duplicates()
        self.stdout.write(
            self.style.SUCCESS(
                f"比对报告 {result.compared_reports} 份，达到阈值 {result.candidates} 对："
                f"新增 {result.created}，更新 {result.refreshed}，已审核保持不变 {result.kept_reviewed}"
            )
        )

    def load_terms(self, *, dictionary: str, path: str | None, version: str, **_opts):
        try:
            if dictionary == terms.MEDDRA:
                if not path:
                    raise CommandError("加载 MedDRA 须给出 MedAscii 目录")
                result = terms.load_meddra(path, actor=None, version=version)
            else:
                result = terms.load_project_dictionary(path or terms.SHIPPED, actor=None)
        except (terms.DictionaryError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"术语集 {result.dictionary} {result.version}：{result.terms} 个术语，新增 {result.created}，"
                f"更新 {result.updated}，停用 {result.deactivated}，新增同义词 {result.synonyms_added}"
            )
        )
