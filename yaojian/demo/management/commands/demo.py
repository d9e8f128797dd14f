"""``yaojian demo [--if-empty]`` — the demo district and one login per role, as ``make run`` needs."""

import os

from django.core.management.base import BaseCommand
from django.db import transaction

from yaojian.core.choices import PartnerDepartment, Role
from yaojian.core.models import User
from yaojian.demo import generator
from yaojian.pharmacy.demo import generate_purchases
from yaojian.registry.models import Enterprise
from yaojian.sentinel.demo import generate_sentinels
from yaojian.signals.services import run_signals

DEMO_PASSWORD = "Yaojian@2026"
# The enterprise type an enterprise account belongs to (the first of that type in the demo district).
ENTERPRISE_TYPE = {"enterprise": "drug_manufacturer", "pharmacy": "retail_pharmacy"}
# username, role, division, display name
ACCOUNTS = [
    ("admin", Role.ADMIN, None, "系统管理员"),
    ("province", Role.REGULATOR, "320000", "江苏省药监局 张处长"),
    ("city", Role.REGULATOR, "320100", "南京市市场监管局 李科长"),
    ("district", Role.REGULATOR, "320106", "鼓楼区市场监管局 王科员"),
    ("inspector", Role.INSPECTOR, "320106", "检查员 赵明"),
    ("adr", Role.ADR_ANALYST, "320106", "不良反应监测员 孙丽"),
    ("enterprise", Role.ENTERPRISE, "320106", "企业质量负责人"),
    ("pharmacy", Role.ENTERPRISE, "320106", "药店负责人"),
    ("partner", Role.PARTNER, "320106", "鼓楼区卫健委"),
    ("auditor", Role.AUDITOR, "320106", "审计员 周审"),
]


class Command(BaseCommand):
    help = "演示环境：生成鼓楼区演示数据（数据库为空时）并创建各角色演示账号"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="已有企业数据时不再生成")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, if_empty, seed, **options):
        if not (if_empty and Enterprise.objects.exists()):
            plan = generator.generate(scale="district", seed=seed)
            self.stdout.write(generator.summary(plan))
            from yaojian.risk import actions, services

            result = services.recompute()
            actions.apply_rules()
            self.stdout.write(f"风险画像：评分 {result.scored} 家")
            self.stdout.write(str(generator.finish(plan)))
            run = run_signals(
                None,
                date_from=plan.as_of.replace(year=plan.as_of.year - 3),
                date_to=plan.as_of,
                division_prefix="320106",
            )
            self.stdout.write(f"信号检测：组合 {run.n_pairs} 个，满足标准 {run.n_flagged} 个")
            self.stdout.write(str(generate_sentinels(division="320106", as_of=plan.as_of, seed=seed)))
            self.stdout.write(str(generate_purchases(division="320106", as_of=plan.as_of, seed=seed)))
        password = os.environ.get("YAOJIAN_DEMO_PASSWORD", DEMO_PASSWORD)
        self.ensure_accounts(password)
        self.stdout.write("\n演示账号（用户名 / 角色 / 辖区 / 密码）：")
        for username, role, division, _name in ACCOUNTS:
            self.stdout.write(f"  {username:<10} {Role(role).label:<10} {division or '全国':<8} {password}")

    @transaction.atomic
    def ensure_accounts(self, password: str) -> None:
        for username, role, division, name in ACCOUNTS:
            user = User.objects.filter(username=username).first() or User(username=username)
            user.role, user.division_id, user.display_name = role, division, name
            kind = ENTERPRISE_TYPE.get(username)
            user.enterprise = (
                Enterprise.objects.filter(division_id="320106", type=kind).order_by("pk").first() if kind else None
            )
            user.department = PartnerDepartment.HEALTH if role == Role.PARTNER else ""
            user.is_active = True
            user.set_password(password)
            user.save()
