"""``yaojian audit verify`` — check the audit trail's hash chain 审计链校验."""

from django.core.management.base import BaseCommand, CommandError

from yaojian.core.audit import verify_chain


class Command(BaseCommand):
    help = "审计日志：verify 校验哈希链，发现被修改、删除或插入的记录"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="校验全部审计记录的哈希链")

    def handle(self, *args, action, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"审计链校验失败：第 {result.broken_seq} 号记录 — {result.reason}（此前 {result.checked} 条完好）"
            )
        self.stdout.write(self.style.SUCCESS(f"审计链完好：共 {result.checked} 条记录"))
