import csv
import datetime
import io
import zipfile

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from yaojian.adr.models import AdrReport
from yaojian.core.audit import verify_chain
from yaojian.core.identifiers import build_uscc
from yaojian.core.models import AuditRecord
from yaojian.imports import parsing
from yaojian.imports.blanks import template_xlsx
from yaojian.imports.engine import run_import
from yaojian.imports.specs import all_specs, get_spec
from yaojian.registry.models import Batch, Product

ADR_HEADER = ["报告编码", "企业统一社会信用代码", "怀疑产品批准文号", "批号", "报告日期", "不良反应名称", "严重程度"]


def counts():
    """Rows of every importable model and of the audit trail: compared before/after a refused import."""
    return {spec.model_label: spec.model.objects.count() for spec in all_specs().values()} | {
        "audit": AuditRecord.objects.count()
    }


def write_csv(path, rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path, rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def adr_rows(world, n=3, district="gulou"):
    ent = world.records[(district, "registry.enterprise")]
    product = world.records[(district, "registry.product")]
    batch = world.records[(district, "registry.batch")]
    rows = [list(ADR_HEADER)]
    for i in range(n):
        rows.append(
            [
                f"ADRT-{district}-{i}",
                ent.credit_code,
                product.approval_number,
                batch.batch_number,
                "2025-06-01",
                "皮疹",
                "严重",
            ]
        )
    return rows


def test_dates_in_every_form():
    expected = datetime.date(2024, 3, 1)
    for value in [
        "2024-03-01",
        "2024/3/1",
        "2024.3.1",
        "20240301",
        "2024年3月1日",
        "２０２４－０３－０１",
        " 2024-03-01 ",
    ]:
        assert parsing.date(value) == expected, value
    assert parsing.date(45352) == expected  # Excel serial number
    assert parsing.date("45352") == expected
    assert parsing.date(datetime.datetime(2024, 3, 1, 0, 0)) == expected
    for bad in ["2024-02-30", "昨天", "=1+1"]:
        with pytest.raises(parsing.CellError):
            parsing.date(bad)


def test_choices_accept_label_or_code_and_text_refuses_formulas():
    parse = get_spec("adr").column("严重程度").parse
    assert parse("严重") == parse("serious") == parse("SERIOUS") == "serious"
    with pytest.raises(parsing.CellError, match="可选"):
        parse("很严重")
    for value in ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)"]:
        with pytest.raises(parsing.CellError, match="公式注入"):
            parsing.text(200)(value)
    assert parsing.text(200)("\u3000皮疹 ") == "皮疹"
    assert parsing.uscc(" " + build_uscc("320106", "70000001").lower()) == build_uscc("320106", "70000001")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(world, tmp_path, encoding):
    path = write_csv(tmp_path / "adr.csv", adr_rows(world), encoding)
    result = run_import("adr", path)
    assert result.ok and result.created == 3
    assert AdrReport.objects.get(report_number="ADRT-gulou-0").reaction == "皮疹"


def test_undecodable_csv_refused(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("报告编码\n".encode() + b"\xff\xfe\xfa\x80\x81" * 3)
    before = counts()
    result = run_import("adr", path)
    assert "编码" in result.refused and counts() == before


def test_xlsx_import_with_date_cells_and_references(world, tmp_path):
    rows = adr_rows(world, 2)
    rows[1][4] = datetime.datetime(2025, 6, 1)
    rows[2][4] = 45809  # 2025-06-01 as an Excel serial
    result = run_import("adr", write_xlsx(tmp_path / "adr.xlsx", rows))
    assert result.ok, result.errors
    report = AdrReport.objects.get(report_number="ADRT-gulou-1")
    batch = world.records[("gulou", "registry.batch")]
    assert report.reported_on == datetime.date(2025, 6, 1) and report.batch_id == batch.pk
    assert report.division_code == "320106" and report.import_batch.startswith("cli-")


def test_idempotent_reimport_and_audit_per_batch(world, tmp_path):
    path = write_csv(tmp_path / "adr.csv", adr_rows(world, 5))
    first = run_import("adr", path)
    second = run_import("adr", path)
    assert (first.created, first.updated) == (5, 0)
    assert (second.created, second.updated) == (0, 5)
    assert AdrReport.objects.filter(import_batch__startswith="cli-").count() == 5
    records = AuditRecord.objects.filter(action="import").order_by("seq")
    assert records.count() == 2
    assert records[1].after == {
        "rows": 5,
        "created": 0,
        "updated": 5,
        "rejected": 0,
        "sha256": first.sha256,
        "file": "adr.csv",
    }
    assert records[1].object_type == "adr.adrreport"
    assert verify_chain().ok


def test_every_bad_row_reported_and_nothing_written(world, tmp_path):
    rows = adr_rows(world, 4)
    rows[2][1] = build_uscc("320106", "70000001")[:-1] + "0"  # wrong check character
    rows[3][4] = "2025-13-01"
    rows[4][0] = rows[1][0]  # duplicate natural key
    before = counts()
    result = run_import("adr", write_csv(tmp_path / "adr.csv", rows))
    assert not result.ok and counts() == before
    found = {(e.row, e.column) for e in result.errors}
    assert (3, "企业统一社会信用代码") in found and (4, "报告日期") in found and (5, "报告编码") in found
    reasons = " ".join(e.reason for e in result.errors)
    assert "校验位" in reasons and "日期" in reasons and "与第2行" in reasons


def test_unknown_reference_and_jurisdiction(world, tmp_path):
    rows = adr_rows(world, 1) + adr_rows(world, 1, "liangxi")[1:]
    rows[1][2] = "国药准字H20990001"
    district_user = world.users["district"]
    adr_user = world.users["adr_analyst"]
    before = counts()
    result = run_import("adr", write_csv(tmp_path / "adr.csv", rows), actor=district_user)
    assert counts() == before
    reasons = {e.row: e.reason for e in result.errors}
    assert "未找到" in reasons[2] and "辖区" in reasons[3]
    inspector = world.users["inspector"]
    assert "无权" in run_import("adr", tmp_path / "adr.csv", actor=inspector).refused
    assert run_import("adr", write_csv(tmp_path / "ok.csv", adr_rows(world, 1)), actor=adr_user).ok


def test_skip_invalid_writes_rejects(world, tmp_path):
    rows = adr_rows(world, 3)
    rows[2][5] = "=cmd|' /C calc'!A0"
    rejects = tmp_path / "rejects.csv"
    result = run_import("adr", write_csv(tmp_path / "adr.csv", rows), skip_invalid=True, rejects_path=rejects)
    assert result.ok and (result.created, result.rejected) == (2, 1)
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0] == ADR_HEADER + ["错误原因"]
    assert lines[1][:7] == rows[2] and "公式注入" in lines[1][7]


def _bomb(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    return path


@pytest.mark.parametrize(
    "case",
    ["bomb", "too_big", "columns", "long_row", "formula_cell", "renamed", "empty", "unknown_column", "missing_column"],
)
def test_hostile_files_refused(world, tmp_path, settings, case):
    rows = adr_rows(world, 2)
    path = tmp_path / "adr.csv"
    if case == "bomb":
        path = _bomb(tmp_path / "adr.xlsx")
    elif case == "too_big":
        settings.YAOJIAN_IMPORT_MAX_BYTES = 100  # stands in for a 2 GB file
        write_csv(path, rows)
    elif case == "columns":
        write_csv(path, [[f"列{i}" for i in range(10000)], ["x"] * 10000])
    elif case == "long_row":
        rows[2] = rows[2] + ["extra"] * 50
        write_csv(path, rows)
    elif case == "formula_cell":
        path = tmp_path / "adr.xlsx"
        workbook = Workbook()
        for row in rows:
            workbook.active.append(row)
        workbook.active["F2"] = "=cmd|' /C calc'!A0"
        workbook.save(path)
    elif case == "renamed":
        path = tmp_path / "adr.xlsx"
        write_csv(path, rows)
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "unknown_column":
        rows[0][6] = "严重性"
        write_csv(path, rows)
    elif case == "missing_column":
        write_csv(path, [r[:5] for r in rows])
    before = counts()
    result = run_import("adr", path)
    assert not result.ok and counts() == before
    message = result.refused or " ".join(e.reason for e in result.errors)
    expected = {
        "bomb": "压缩",
        "too_big": "文件过大",
        "columns": "列数过多",
        "long_row": "多于表头",
        "formula_cell": "公式注入",
        "renamed": "不是有效的 xlsx",
        "empty": "为空",
        "unknown_column": "无法识别的列",
        "missing_column": "缺少必填列",
    }[case]
    assert expected in message


def test_every_kind_imports_its_template_example(world, tmp_path):
    """Each template's example row imports once the referenced enterprise/product/batch exist."""
    # The world's 鼓楼 enterprise and product carry the templates' example identifiers.
    product = Product.objects.get(approval_number="国药准字H20250001")
    assert product.holder.credit_code == build_uscc("320106", "70000001")
    Batch.objects.create(product=product, batch_number="B250101")
    for kind in [
        "enterprise",
        "licence",
        "product",
        "registration",
        "batch",
        "inspection",
        "defect",
        "sampling",
        "adr",
        "complaint",
        "penalty",
        "credit",
    ]:
        spec = get_spec(kind)
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(template_xlsx(spec))
        workbook = load_workbook(path)
        assert workbook.sheetnames == [spec.title, "填写说明"]
        result = run_import(kind, path)
        assert result.ok, (kind, result.refused, result.errors)
        assert apps.get_model(spec.model_label).objects.filter(import_batch__startswith="cli-").exists()


def test_cli_import_and_template(world, tmp_path, capsys):
    call_command("import-template", "adr", "--out", str(tmp_path / "t.csv"))
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    path = write_csv(tmp_path / "adr.csv", adr_rows(world, 3), "gbk")
    call_command("import", "adr", str(path))
    assert "新增3行" in capsys.readouterr().out
    rows = adr_rows(world, 3)
    rows[2][4] = "bad"
    bad = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(CommandError):
        call_command("import", "adr", str(bad), "--no-progress")
    assert "第3行" in capsys.readouterr().err
    call_command("import", "adr", str(bad), "--skip-invalid", "--rejects", str(tmp_path / "r.csv"), "--user", "admin")
    assert "拒绝1行" in capsys.readouterr().out and (tmp_path / "r.csv").exists()


def test_encrypted_and_decimal_columns_stored_as_the_orm_stores_them(world, tmp_path):
    from django.db import connection

    from yaojian.complaints.models import Complaint
    from yaojian.enforcement.models import Penalty

    credit = world.records[("gulou", "registry.enterprise")].credit_code
    complaints = [
        ["受理编号", "被投诉企业统一社会信用代码", "受理日期", "事项", "投诉人"],
        ["TS-X-1", credit, "2025/6/1", "包装破损", "张三"],
    ]
    assert run_import("complaint", write_csv(tmp_path / "c.csv", complaints)).ok
    complaint = Complaint.objects.get(number="TS-X-1")
    assert complaint.complainant_name == "张三"
    with connection.cursor() as cursor:
        cursor.execute("SELECT complainant_name FROM complaints_complaint WHERE number = %s", ["TS-X-1"])
        assert "张三" not in cursor.fetchone()[0]
    penalties = [["处罚决定书文号", "当事人统一社会信用代码", "处罚日期", "违法事实", "处罚种类", "罚没金额（元）"]]
    penalties.append(["宁罚〔2025〕9号", credit, "2025.6.1", "无证经营", "罚款", "１２,３４５.６"])
    assert run_import("penalty", write_csv(tmp_path / "p.csv", penalties)).ok
    assert str(Penalty.objects.get(decision_number="宁罚〔2025〕9号").fine_amount) == "12345.60"


def test_columns_absent_from_the_file_are_kept_on_update(world, tmp_path):
    ent = world.records[("gulou", "registry.enterprise")]
    ent.contact_phone = "025-1234"
    ent.save()
    header = ["统一社会信用代码", "企业名称", "企业类型", "行政区划代码", "住所/经营地址", "法定代表人"]
    rows = [header, [ent.credit_code, "新名称药业", "诊所", "320106", "新地址", "李某"]]
    result = run_import("enterprise", write_csv(tmp_path / "e.csv", rows))
    assert (result.created, result.updated) == (0, 1)
    ent.refresh_from_db()
    assert (ent.name, ent.type, ent.contact_phone, ent.scale) == ("新名称药业", "clinic", "025-1234", "small")
