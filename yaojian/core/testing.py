"""Fixture builders 测试数据 shared by the test suites: a small, fully linked data set.

Two districts of Nanjing (鼓楼区 320106, 玄武区 320102) and one of Wuxi (梁溪区 320213),
each with one enterprise carrying one record of every kind, and one user per role.
"""

import datetime
from dataclasses import dataclass, field

from yaojian.core import divisions
from yaojian.core.choices import PartnerDepartment, Role
from yaojian.core.identifiers import build_uscc
from yaojian.core.models import Division, User

PASSWORD = "Yaojian-test-2026"
DISTRICTS = {"gulou": "320106", "xuanwu": "320102", "liangxi": "320213"}


@dataclass
class World:
    enterprises: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    records: dict = field(default_factory=dict)  # (district key, model label) -> object
    users: dict = field(default_factory=dict)  # user key -> User


def make_user(username: str, role: str, division_code: str | None = None, **extra) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, role=role, division_id=division_code, display_name=username, **extra
    )
    return user


def build_world() -> World:
    """Create the data set directly (no audit), as a fixture."""
    from yaojian.adr.models import AdrReport
    from yaojian.complaints.models import Complaint
    from yaojian.credit.models import CreditRating
    from yaojian.enforcement.models import Penalty
    from yaojian.inspections.models import Defect, Inspection
    from yaojian.registry.models import Batch, Enterprise, Licence, Product, Registration
    from yaojian.sampling.models import SamplingTest

    if not Division.objects.filter(code="320106").exists():
        # Transactional tests flush the tables, including the divisions the migration loaded.
        divisions.load(Division, divisions.read_table())
    world = World()
    day = datetime.date(2025, 6, 1)
    for n, (key, code) in enumerate(DISTRICTS.items(), start=1):
        ent = Enterprise.objects.create(
            name=f"{key}测试药业有限公司",
            credit_code=build_uscc(code, f"7{n:07d}"),
            type="drug_manufacturer",
            division_id=code,
            address=f"{key}路{n}号",
            legal_representative="王某",
        )
        product = Product.objects.create(
            category="drug",
            name=f"{key}阿莫西林胶囊",
            approval_number=f"国药准字H2025{n:04d}",
            holder=ent,
            manufacturer=ent,
            dosage_form="胶囊剂",
            specification="0.25g",
        )
        batch = Batch.objects.create(product=product, batch_number=f"B{n}001", manufactured_on=day)
        inspection = Inspection.objects.create(
            number=f"JC-{key}-1",
            enterprise=ent,
            kind="gmp",
            inspected_on=day,
            inspectors="张检、李查",
            conclusion="basically",
        )
        recs = {
            "registry.enterprise": ent,
            "registry.product": product,
            "registry.batch": batch,
            "registry.licence": Licence.objects.create(
                enterprise=ent,
                type="drug_manufacturing",
                number=f"苏2025{n:04d}",
                scope="片剂、胶囊剂",
                issued_on=day,
                valid_until=day + datetime.timedelta(days=5 * 365),
            ),
            "registry.registration": Registration.objects.create(
                product=product, kind="approval", number=product.approval_number, issued_on=day
            ),
            "inspections.inspection": inspection,
            "inspections.defect": Defect.objects.create(
                inspection=inspection, code="GMP-0101", grade="major", description="偏差处理记录不完整"
            ),
            "sampling.samplingtest": SamplingTest.objects.create(
                number=f"CJ-{key}-1", enterprise=ent, product=product, batch=batch, sampled_on=day, result="pass"
            ),
            "adr.adrreport": AdrReport.objects.create(
                report_number=f"ADR-{key}-1",
                enterprise=ent,
                product=product,
                batch=batch,
                reported_on=day,
                reaction="皮疹",
                seriousness="general",
            ),
            "complaints.complaint": Complaint.objects.create(
                number=f"TS-{key}-1",
                enterprise=ent,
                received_on=day,
                subject="药品包装破损",
                complainant_name="赵六",
                complainant_phone="13800138000",
            ),
            "enforcement.penalty": Penalty.objects.create(
                decision_number=f"宁市监罚〔2025〕{n}号",
                enterprise=ent,
                decided_on=day,
                violation="未按规定储存药品",
                kind="fine",
                fine_amount=20000,
            ),
            "credit.creditrating": CreditRating.objects.create(enterprise=ent, grade="B", rated_on=day),
        }
        world.enterprises[key] = ent
        world.products[key] = product
        for label, obj in recs.items():
            world.records[(key, label)] = obj

    world.users = {
        "admin": make_user("admin", Role.ADMIN),
        "province": make_user("province", Role.REGULATOR, "320000"),
        "city": make_user("city", Role.REGULATOR, "320100"),
        "district": make_user("district", Role.REGULATOR, "320106"),
        "inspector": make_user("inspector", Role.INSPECTOR, "320106"),
        "adr_analyst": make_user("adr_analyst", Role.ADR_ANALYST, "320106"),
        "enterprise": make_user("enterprise", Role.ENTERPRISE, "320106", enterprise=world.enterprises["gulou"]),
        "partner": make_user("partner", Role.PARTNER, "320106", department=PartnerDepartment.HEALTH),
        "auditor": make_user("auditor", Role.AUDITOR, "320106"),
    }
    return world


def sign_in(page, base_url: str, username: str) -> None:
    """Browser tests: sign in through the login page as one of the world's users and land on the home page."""
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
