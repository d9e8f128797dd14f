"""``yaojian adr import-e2b|export-e2b`` — E2B(R3) 电子传输 from the command line."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yaojian.adr import e2b
from yaojian.adr.models import AdrReport, Causality, ReportSource, Seriousness
from yaojian.core import access
from yaojian.core.management.arguments import date_argument
from yaojian.core.models import Division


class Command(BaseCommand):
    help = "不良反应 E2B(R3)：import-e2b 导入批次文件并生成确认消息（ACK）；export-e2b 按条件导出报告"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-e2b", help="导入 E2B(R3) 批次文件（每个文件一个事务，出错则整批不导入）")
        imp.add_argument("files", nargs="+", type=Path)
        imp.add_argument("--ack-dir", type=Path, help="把每个批次的确认消息（ACK）写到此目录")
        imp.add_argument("--division", default="", help="无关联企业的报告归属的行政区划代码（默认：用户所在辖区）")
        imp.add_argument("--user", help="以此账号身份导入（权限与辖区检查、审计记录）；不填则记为系统")
        exp = sub.add_parser("export-e2b", help="把报告导出为一个 E2B(R3) 批次文件")
        exp.add_argument("--out", type=Path, required=True)
        exp.add_argument("--user", help="按此账号的可见范围导出")
        exp.add_argument("--division", help="行政区划代码前缀")
        exp.add_argument("--from", dest="since", type=date_argument, help="报告日期起")
        exp.add_argument("--to", dest="until", type=date_argument, help="报告日期止")
        exp.add_argument("--source", choices=ReportSource.values)
        exp.add_argument("--seriousness", choices=Seriousness.values)
        exp.add_argument("--causality", choices=Causality.values)
        exp.add_argument("--report-number", action="append", help="只导出这些报告编码（可重复）")

    def handle(self, *args, action, **options):
        user = self._user(options.get("user"))
        if action == "import-e2b":
            return self._import(user, options)
        return self._export(user, options)

    def _user(self, username):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"账号不存在：{username}") from None

    def _import(self, user, options):
        division = options["division"] or (user.division_id if user and user.division_id else "")
        if not division or not Division.objects.filter(code=division).exists():
            raise CommandError("请用 --division 给出有效的行政区划代码（6位），或用 --user 指定有辖区的账号")
        if options["ack_dir"]:
            options["ack_dir"].mkdir(parents=True, exist_ok=True)
        failed = 0
        for path in options["files"]:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{path}: 无法读取（{exc.strerror}）") from None
            result = e2b.import_batch(data, actor=user, division_code=division)
            loaded = sum(r.code == "CA" for r in result.icsrs)
            self.stdout.write(f"{path}: {result.code} {result.text}（导入 {loaded}/{len(result.icsrs)} 份）")
            for icsr in result.icsrs:
                self.stdout.write(f"  {icsr.code} {icsr.report_number}: {icsr.text}")
            if options["ack_dir"]:
                (options["ack_dir"] / f"{path.stem}.ack.xml").write_bytes(result.ack_xml)
            failed += result.code == "AR"
        if failed:
            raise CommandError(f"{failed} 个文件被拒绝")

    def _export(self, user, options):
        reports = AdrReport.objects.all()
        if user is not None:
            reports = access.scoped(reports, user, access.VIEW)
        filters = {
            "division_code__startswith": options["division"],
            "reported_on__gte": options["since"],
            "reported_on__lte": options["until"],
            "source": options["source"],
            "seriousness": options["seriousness"],
            "causality": options["causality"],
            "report_number__in": options["report_number"],
        }
        reports = reports.filter(**{k: v for k, v in filters.items() if v}).select_related(
            "enterprise", "reporting_enterprise"
        )
        reports = reports.prefetch_related("drugs", "reactions__coded_term").order_by("reported_on", "pk")
        options["out"].write_bytes(e2b.export_batch(reports))
        self.stdout.write(f"已导出 {reports.count()} 份报告到 {options['out']}")
