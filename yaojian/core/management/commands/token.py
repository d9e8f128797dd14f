"""``yaojian token create USERNAME --name NAME`` — issue an API token 接口令牌 (the key is shown once)."""

from django.core.management.base import BaseCommand, CommandError

from yaojian.core.api_auth import issue_token, revoke_token
from yaojian.core.models import ApiToken, User


class Command(BaseCommand):
    help = "接口令牌：create 签发（密钥只显示一次）、list 列出、revoke 吊销"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="为用户签发令牌")
        create.add_argument("username", help="用户名")
        create.add_argument("--name", required=True, help="用途，例如“数据交换”")
        create.add_argument("--days", type=int, default=None, help="有效天数（缺省为长期有效）")
        listing = sub.add_parser("list", help="列出令牌（不含密钥）")
        listing.add_argument("username", nargs="?", help="只列出此用户的令牌")
        revoke = sub.add_parser("revoke", help="吊销令牌")
        revoke.add_argument("token_id", type=int, help="令牌编号（见 list）")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_create(self, *, username, name, days, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户不存在或已停用：{username}")
        if days is not None and days <= 0:
            raise CommandError("有效天数必须为正整数")
        token, key = issue_token(user, name, days=days)
        self.stderr.write(f"已为 {user.username} 签发令牌 #{token.pk}（{name}），密钥只显示这一次，请妥善保存：")
        self.stdout.write(key)

    def handle_list(self, *, username, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "pk")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            expires = token.expires_at.isoformat() if token.expires_at else "长期"
            used = token.last_used_at.isoformat() if token.last_used_at else "从未使用"
            self.stdout.write(
                f"#{token.pk}\t{token.user.username}\t{token.name}\t{token.prefix}…\t过期：{expires}\t最近使用：{used}"
            )

    def handle_revoke(self, *, token_id, **options):
        token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
        if token is None:
            raise CommandError(f"令牌不存在：#{token_id}")
        revoke_token(token)
        self.stdout.write(self.style.SUCCESS(f"已吊销令牌 #{token_id}"))
