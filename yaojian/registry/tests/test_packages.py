"""Packaging levels 药品包装规格/药品标识码: validation, the data migration's allocation, the product page, the edit
path with its audit record, and the trace code checks, scans and public query that now read them."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from yaojian.core.tests.viewtools import audit_actions, check_round_trip, client_for, form_data
from yaojian.registry.models import Product, ProductPackage
from yaojian.registry.packaging import default_identifier, default_packages, identifier_levels, split_units_of
from yaojian.trace.codes import CodeError, parse_drug_trace_code
from yaojian.trace.ingest import ingest_bytes
from yaojian.trace.store import Store

from .packages import register_levels


def package(product, **values) -> ProductPackage:
    return ProductPackage(product=product, **{"level": 0, "identifier": "8912345"} | values)


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"identifier": "891234"}, "identifier", "应为 7 位"),
        ({"identifier": "89123456"}, "identifier", "应为 7 位"),
        ({"identifier": "89A2345"}, "identifier", "只能由数字组成"),
        ({"identifier": "7912345"}, "identifier", "应以 8 开头"),
        ({"level": 1, "split_units": 10}, "split_units", "只适用于最小销售单元"),
        ({"units_per_pack": 20}, "units_per_pack", "没有下级包装"),
    ],
)
def test_invalid_levels_are_refused(world, values, field, reason):
    with pytest.raises(ValidationError) as refused:
        package(world.products["gulou"], **values).full_clean()
    assert reason in " ".join(refused.value.message_dict[field])


def test_a_valid_level_and_only_for_drugs(world):
    package(world.products["gulou"], split_units=24).full_clean()
    package(world.products["gulou"], level=1, identifier="8912346", units_per_pack=20).full_clean()
    device = world.products["gulou"]
    device.category = "device"
    with pytest.raises(ValidationError) as refused:
        package(device).full_clean()
    assert "只用于药品" in refused.value.message_dict["product"][0]


def test_default_allocation_is_the_derivation_trace_stores_were_written_with():
    # 8, (key // 100000) % 3 raised by 3 per level, the key's last five digits.
    assert [default_identifier(123456, level) for level in (0, 1, 2)] == ["8123456", "8423456", "8723456"]
    assert default_identifier(7, 0) == "8000007"
    assert split_units_of("0.25g×24粒/盒") == 24 and split_units_of("10ml") is None
    assert default_packages(7, "0.5g*12片") == [
        {"level": 0, "identifier": "8000007", "split_units": 12},
        {"level": 1, "identifier": "8300007", "split_units": None},
        {"level": 2, "identifier": "8600007", "split_units": None},
    ]


def test_migration_fills_every_drug_once(world):
    fill = importlib.import_module("yaojian.registry.migrations.0003_fill_productpackage").fill
    drugs = Product.objects.filter(category="drug")
    fill(apps, None)
    fill(apps, None)  # a drug that has its levels is left alone
    assert ProductPackage.objects.count() == 3 * drugs.count()
    product = world.products["gulou"]
    assert sorted(product.packages.values_list("level", "identifier")) == [
        (level, default_identifier(product.pk, level)) for level in (0, 1, 2)
    ]
    assert {p.division_code for p in product.packages.all()} == {product.division_code}


def test_product_page_shows_the_levels(world):
    product = world.products["gulou"]
    unit, case, pallet = register_levels(product)
    page = client_for(world.users["district"]).get(product.get_absolute_url()).content.decode()
    assert "包装规格与药品标识码" in page and all(code in page for code in (unit, case, pallet))
    assert "中包装/箱" in page and reverse("registry:productpackage-add", args=[product.pk]) in page
    # A reader sees the table without the add button.
    page = client_for(world.users["inspector"]).get(product.get_absolute_url()).content.decode()
    assert unit in page and reverse("registry:productpackage-add", args=[product.pk]) not in page


def test_editing_a_level_writes_an_audit_record(world):
    product = world.products["gulou"]
    register_levels(product)
    unit = product.packages.get(level=0)
    url = reverse("registry:productpackage-edit", args=[unit.pk])
    data = form_data(unit, package_specification="24粒/盒", split_units=24)
    data.pop("product")
    response = client_for(world.users["district"]).post(url, data)
    assert response.status_code == 302, response.content.decode()
    unit.refresh_from_db()
    assert unit.split_units == 24 and audit_actions(ProductPackage, unit.pk) == ["update"]
    # Outside the jurisdiction the level is not found; a reader may not edit it.
    assert client_for(world.users["district"]).post(_edit_of(world, "liangxi"), data).status_code == 404
    assert client_for(world.users["inspector"]).post(url, data).status_code == 403


def _edit_of(world, district):
    other = register_levels(world.products[district])[0]
    return reverse("registry:productpackage-edit", args=[ProductPackage.objects.get(identifier=other).pk])


def test_add_edit_delete_round_trip(world):
    product = world.products["gulou"]
    register_levels(product)
    source = product.packages.get(level=2)
    source.delete()  # the level is free again for the copy
    check_round_trip(
        world.users["district"],
        source,
        add_url=reverse("registry:productpackage-add", args=[product.pk]),
        unique={"identifier": "8954321"},
        change={"package_specification": "40箱/托"},
        exclude=("product",),
    )


def test_trace_codes_are_checked_against_the_registry(world):
    unit, case, _pallet = register_levels(world.products["gulou"])
    registry = identifier_levels()
    assert parse_drug_trace_code(unit + "0000000000001", registry, expected_level=0).packaging_level == 0
    with pytest.raises(CodeError) as unknown:
        parse_drug_trace_code("8999999" + "0000000000001", registry)
    assert unknown.value.kind == "unknown_product"  # unknown product identifier
    with pytest.raises(CodeError) as mismatch:
        parse_drug_trace_code(case + "0000000000001", registry, expected_level=0)
    assert mismatch.value.kind == "level_mismatch"  # packaging level mismatch
    ProductPackage.objects.filter(identifier=unit).update(is_active=False)
    with pytest.raises(CodeError):
        parse_drug_trace_code(unit + "0000000000001", identifier_levels())


def test_upload_refuses_codes_the_registry_does_not_know(world, settings, tmp_path):
    settings.YAOJIAN_TRACE_DIR = tmp_path
    maker = world.enterprises["gulou"].credit_code
    header = "事件类型,追溯码,上级码,时间,企业统一社会信用代码,对方统一社会信用代码,批号,有效期,数量,拆零\n"
    data = (header + f"赋码,89999990000000000001,,2026-03-01 09:00:00,{maker},,B1001,2028-02-29,,\n").encode()
    page = client_for(world.users["district"]).post("/trace/ingest/", {"file": io.BytesIO(data)}).content.decode()
    assert "接收 0" in page and "8999999" in page


def test_public_query_resolves_the_product_by_its_registered_identifier(world, settings, tmp_path):
    settings.YAOJIAN_TRACE_DIR = tmp_path
    product = world.products["gulou"]
    # An identifier the old derivation could not produce: only the registry table knows its product.
    ProductPackage.objects.create(product=product, level=0, identifier="8954321")
    maker = world.enterprises["gulou"].credit_code
    header = "事件类型,追溯码,上级码,时间,企业统一社会信用代码,对方统一社会信用代码,批号,有效期,数量,拆零\n"
    data = (header + f"赋码,89543210000000000001,,2026-03-01 09:00:00,{maker},,B1001,2028-02-29,,\n").encode()
    assert ingest_bytes(data, "one.csv", Store(tmp_path)).accepted == 1
    page = Client().get("/trace/query/", {"code": "89543210000000000001"}).content.decode()
    assert "gulou阿莫西林胶囊" in page and product.approval_number in page
    ProductPackage.objects.filter(identifier="8954321").update(is_active=False)
    page = Client().get("/trace/query/", {"code": "89543210000000000001"}).content.decode()
    assert "gulou阿莫西林胶囊" not in page


def test_generated_flows_use_the_registered_identifiers(db):
    from yaojian.demo import generator
    from yaojian.trace.flows import registry_world

    generator.generate(scale="tiny", seed=7)
    case = ProductPackage.objects.filter(level=1).order_by("pk").first()
    case.identifier = "8954321"  # no longer the derivation of the unit's code
    case.save()
    world = registry_world(seed=1)
    assert world.package_ids is not None and "8954321" in world.ids_at(1)
    row = list(world.package_ids[:, 1]).index("8954321")
    assert world.product_ids[row] == case.product.packages.get(level=0).identifier
    assert "8954321" in world.products_table()["code"].to_pylist()


def test_api_lists_the_levels_in_the_jurisdiction(world):
    for district in ("gulou", "liangxi"):
        register_levels(world.products[district])
    client = client_for(world.users["district"])
    listed = client.get("/api/packages/", {"product": world.products["gulou"].pk}).json()
    assert [p["level"] for p in listed["items"]] == [0, 1, 2]
    assert listed["items"][0]["identifier"] == default_identifier(world.products["gulou"].pk, 0)
    found = client.get("/api/packages/", {"q": default_identifier(world.products["liangxi"].pk, 0)}).json()
    assert found["count"] == 0  # 梁溪's drug is outside 鼓楼


def test_import_of_packaging_levels(world, tmp_path):
    from yaojian.imports.engine import run_import

    number = world.products["gulou"].approval_number
    header = "产品批准文号,包装级别,药品标识码,包装规格,内含下级包装数,拆零单位数,启用\n"
    good = f"{number},最小销售单元,8912345,24粒/盒,,24,是\n{number},中包装/箱,8912346,20盒/箱,20,,是\n"
    path = tmp_path / "packages.csv"
    path.write_text(header + good, encoding="utf-8")
    result = run_import("package", path, actor=world.users["district"])
    assert result.ok and result.created == 2, result.errors
    assert world.products["gulou"].packages.get(level=0).split_units == 24
    bad = f"{number},外箱/托盘,7912347,,,,是\n{number},外箱/托盘,891234,,,,是\n{number},外箱/托盘,8912347,,,5,是\n"
    path.write_text(header + bad, encoding="utf-8")
    reasons = " ".join(e.reason for e in run_import("package", path, actor=world.users["district"]).errors)
    assert "应以 8 开头" in reasons and "应为 7 位" in reasons and "只适用于最小销售单元" in reasons
    assert world.products["gulou"].packages.count() == 2
