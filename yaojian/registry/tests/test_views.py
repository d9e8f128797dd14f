"""Registry pages 主体与品种: enterprise list and filters, the dossier 一企一档, the product chain 一品一链."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yaojian.adr.models import AdrReport
from yaojian.complaints.models import Complaint
from yaojian.core import audit
from yaojian.core.identifiers import build_uscc
from yaojian.core.tests.viewtools import check_pages, check_round_trip, client_for
from yaojian.credit.models import CreditRating
from yaojian.enforcement.models import Penalty
from yaojian.inspections.models import Defect, Inspection
from yaojian.registry.models import Enterprise, Licence, Product
from yaojian.sampling.models import SamplingTest

TABS = ("licences", "products", "inspections", "sampling", "adr", "complaints", "penalties", "credit", "history")


@pytest.mark.parametrize(
    ("label", "url"),
    [
        ("registry.enterprise", "/enterprises/"),
        ("registry.licence", "/enterprises/licences/"),
        ("registry.product", "/enterprises/products/"),
    ],
)
def test_pages_are_scoped(world, label, url):
    check_pages(world, label, url)


def test_enterprise_round_trip(world):
    source = world.enterprises["gulou"]
    unique = {"credit_code": build_uscc("320106", "79999999"), "name": "新开药房"}
    check_round_trip(
        world.users["district"], source, add_url="/enterprises/add/", unique=unique, change={"address": "中山路1号"}
    )


def test_licence_round_trip(world):
    source = world.records[("gulou", "registry.licence")]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/enterprises/licences/add/",
        unique={"number": "苏20259999"},
        change={"scope": "片剂"},
    )


def test_product_round_trip(world):
    source = world.products["gulou"]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/enterprises/products/add/",
        unique={"approval_number": "国药准字H20259999"},
        change={"specification": "0.5g"},
    )


def test_registrations_and_batches_from_the_product_page(world):
    product = world.products["gulou"]
    for label, plural, unique, change in [
        (
            "registry.registration",
            "registrations",
            {"number": "国药准字H20250001", "issued_on": "2026-01-01"},
            {"status": "expired"},
        ),
        ("registry.batch", "batches", {"batch_number": "B9"}, {"quantity": 7}),
    ]:
        check_round_trip(
            world.users["district"],
            world.records[("gulou", label)],
            add_url=f"/enterprises/products/{product.pk}/{plural}/add/",
            unique=unique,
            change=change,
            exclude=("product",),
        )


def test_enterprise_list_filters(world):
    client = client_for(world.users["city"])
    gulou, xuanwu = world.enterprises["gulou"], world.enterprises["xuanwu"]
    CreditRating.objects.filter(enterprise=xuanwu).update(grade="D")
    page = client.get("/enterprises/", {"division": "320102"}).content.decode()
    assert xuanwu.name in page and gulou.name not in page
    page = client.get("/enterprises/", {"credit_grade": "D"}).content.decode()
    assert xuanwu.name in page and gulou.name not in page
    page = client.get(
        "/enterprises/", {"q": "gulou", "type": "drug_manufacturer", "licence_state": "valid"}
    ).content.decode()
    assert gulou.name in page and xuanwu.name not in page
    page = client.get("/enterprises/", {"licence_state": "none"}).content.decode()
    assert "暂无数据" in page


def test_export_neutralises_formulas(world):
    import io

    from openpyxl import load_workbook

    Enterprise.objects.filter(pk=world.enterprises["gulou"].pk).update(legal_representative='=HYPERLINK("http://x")')
    client = client_for(world.users["district"])
    csv_body = client.get("/enterprises/", {"export": "csv"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_body and "liangxi" not in csv_body
    response = client.get("/enterprises/", {"export": "xlsx", "q": "gulou"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert '\'=HYPERLINK("http://x")' in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_dossier_tabs_by_role(world):
    enterprise = world.enterprises["gulou"]
    district = client_for(world.users["district"])
    page = district.get(f"/enterprises/{enterprise.pk}/").content.decode()
    assert enterprise.credit_code in page and "江苏省南京市鼓楼区" in page and "信用 B" in page
    for tab in TABS + ("timeline",):
        response = district.get(f"/enterprises/{enterprise.pk}/tab/{tab}/", headers={"HX-Request": "true"})
        assert response.status_code == 200, tab
        assert "<html" not in response.content.decode()  # htmx gets the tab alone
    timeline = district.get(f"/enterprises/{enterprise.pk}/tab/timeline/").content.decode()
    assert "<html" in timeline and enterprise.credit_code in timeline  # a plain link gets the whole dossier
    assert "宁市监罚〔2025〕1号" in timeline and "ADR-gulou-1" in timeline

    own = client_for(world.users["enterprise"])
    page = own.get(f"/enterprises/{enterprise.pk}/").content.decode()
    assert "不良反应" not in page and "投诉举报" not in page
    for tab in ("adr", "complaints", "history"):
        assert own.get(f"/enterprises/{enterprise.pk}/tab/{tab}/").status_code == 403
    assert own.get(f"/enterprises/{enterprise.pk}/tab/nosuch/").status_code == 403
    other = world.enterprises["xuanwu"]
    assert district.get(f"/enterprises/{other.pk}/tab/licences/").status_code == 404


def test_dossier_history_lists_audit_of_its_records(world):
    from yaojian.core import services

    penalty = world.records[("gulou", "enforcement.penalty")]
    services.update_record(penalty, actor=world.users["district"], legal_basis="历史测试依据")
    Licence.objects.filter(enterprise=world.enterprises["gulou"]).update(import_batch="IMP-20260101-01")
    page = (
        client_for(world.users["district"]).get(f"/enterprises/{penalty.enterprise_id}/tab/history/").content.decode()
    )
    assert penalty.decision_number in page and "IMP-20260101-01" in page


def fill(enterprise, product, n: int, actor):
    """``n`` records of every dimension for ``enterprise`` (fixture data, written directly)."""
    day = datetime.date(2025, 1, 1)
    for i in range(n):
        when = day + datetime.timedelta(days=i)
        Licence.objects.create(
            enterprise=enterprise,
            type="drug_retail",
            number=f"L-{enterprise.pk}-{i}",
            issued_on=when,
            valid_until=when + datetime.timedelta(days=900),
        )
        extra = Product.objects.create(
            category="drug",
            name=f"产品{i}",
            approval_number=f"国药准字H2026{enterprise.pk:02d}{i:02d}",
            holder=enterprise,
        )
        inspection = Inspection.objects.create(
            number=f"I-{enterprise.pk}-{i}", enterprise=enterprise, kind="gmp", inspected_on=when, inspectors="张"
        )
        Defect.objects.create(inspection=inspection, code=f"D{i}", grade="minor", description="缺陷")
        SamplingTest.objects.create(
            number=f"S-{enterprise.pk}-{i}", enterprise=enterprise, product=extra, sampled_on=when
        )
        AdrReport.objects.create(
            report_number=f"A-{enterprise.pk}-{i}",
            enterprise=enterprise,
            product=product,
            reported_on=when,
            reaction="皮疹",
        )
        Complaint.objects.create(
            number=f"C-{enterprise.pk}-{i}",
            enterprise=enterprise,
            received_on=when,
            subject="投诉",
            complainant_name="钱七",
            complainant_phone="13900000000",
        )
        Penalty.objects.create(
            decision_number=f"P-{enterprise.pk}-{i}",
            enterprise=enterprise,
            decided_on=when,
            violation="违法",
            kind="warning",
        )
        CreditRating.objects.create(enterprise=enterprise, grade="A", rated_on=when)
        audit.record_change(enterprise, actor=actor, action="update", before={"n": i}, after={"n": i + 1})


def test_dossier_query_count_does_not_grow_with_records(world):
    actor = world.users["district"]
    small = world.enterprises["gulou"]
    big = Enterprise.objects.create(
        name="大型连锁药房",
        credit_code=build_uscc("320106", "79999998"),
        type="retail_chain",
        division_id="320106",
        address="大路1号",
        legal_representative="孙某",
    )
    fill(small, world.products["gulou"], 0, actor)  # the world already holds one of each
    audit.record_change(small, actor=actor, action="update", before={"n": 0}, after={"n": 1})
    big_product = Product.objects.create(
        category="drug", name="大品种", approval_number="国药准字H20269999", holder=big
    )
    fill(big, big_product, 30, actor)
    client = client_for(actor)

    def queries(enterprise, tab=""):
        url = f"/enterprises/{enterprise.pk}/" + (f"tab/{tab}/" if tab else "")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"per_page": 50})
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    for tab in ("",) + TABS + ("timeline",):
        small_count, _ = queries(small, tab)
        big_count, page = queries(big, tab)
        assert big_count == small_count, f"{tab or 'dossier'}: {small_count} vs {big_count} queries"
    assert page.count("<li>") >= 30  # the big timeline really shows its rows


def test_product_chain(world):
    product = world.products["gulou"]
    Complaint.objects.filter(pk=world.records[("gulou", "complaints.complaint")].pk).update(product=product)
    Penalty.objects.filter(pk=world.records[("gulou", "enforcement.penalty")].pk).update(product=product)
    client = client_for(world.users["district"])
    page = client.get(product.get_absolute_url()).content.decode()
    for text in (
        "产品注册",
        "批次",
        "B1001",
        "CJ-gulou-1",
        "ADR-gulou-1",
        "TS-gulou-1",
        "宁市监罚〔2025〕1号",
        "JC-gulou-1",
        "新增批次",
    ):
        assert text in page, text
    inspector = client_for(world.users["inspector"]).get(product.get_absolute_url()).content.decode()
    assert "ADR-gulou-1" not in inspector and "新增批次" not in inspector


def test_enterprise_with_records_is_kept(world):
    from yaojian.core.models import AuditRecord

    enterprise = world.enterprises["gulou"]
    client = client_for(world.users["district"])
    response = client.post(f"/enterprises/{enterprise.pk}/delete/", follow=True)
    assert "仍有关联记录，不能删除" in response.content.decode()
    assert Enterprise.objects.filter(pk=enterprise.pk).exists() and not AuditRecord.objects.exists()


def test_forms_offer_only_choices_within_scope(world):
    client = client_for(world.users["district"])
    page = client.get("/enterprises/licences/add/").content.decode()
    assert world.enterprises["gulou"].name in page and world.enterprises["xuanwu"].name not in page
    page = client.get("/enterprises/add/").content.decode()
    assert "鼓楼区" in page and "玄武区" not in page
    other = world.enterprises["xuanwu"]
    data = {
        "enterprise": other.pk,
        "type": "drug_retail",
        "number": "X-1",
        "issued_on": "2026-01-01",
        "valid_until": "2027-01-01",
        "status": "valid",
    }
    response = client.post("/enterprises/licences/add/", data)
    assert response.status_code == 400 and not Licence.objects.filter(number="X-1").exists()


def test_writes_need_the_role(world):
    client = client_for(world.users["inspector"])
    enterprise = world.enterprises["gulou"]
    assert client.get(f"/enterprises/{enterprise.pk}/").status_code == 200
    assert client.get(f"/enterprises/{enterprise.pk}/edit/").status_code == 403
    assert client.post(f"/enterprises/{enterprise.pk}/delete/").status_code == 403
    assert client.get("/enterprises/licences/add/").status_code == 403
    assert "新增" not in client.get("/enterprises/").content.decode()
