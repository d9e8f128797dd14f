"""Real-name purchase records: encryption at rest, keyed hash, masking everywhere, the audited clear-text
look-up, retention purge, upload errors and idempotent re-submission, the pharmacy-only API."""

import csv
import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from yaojian.core.models import ApiToken, AuditRecord
from yaojian.pharmacy import privacy, services
from yaojian.pharmacy.models import DailyCount, PurchaseRecord, Source
from yaojian.pharmacy.uploads import read_rows

# Valid resident ID numbers (GB 11643 check digits) of 鼓楼区.
BUYERS = [("张三丰", "11010519491231002X"), ("李四", "320106199001011234"), ("王五", "320106198502023456")]
MASKED_ID = "110105********002X"


def fix_check_digit(body17: str) -> str:
    from yaojian.core.identifiers import RIC_WEIGHTS

    r = (12 - sum(int(c) * w for c, w in zip(body17, RIC_WEIGHTS, strict=True)) % 11) % 11
    return body17 + ("X" if r == 10 else str(r))


BUYERS = [(name, fix_check_digit(code[:17])) for name, code in BUYERS]
DAY = datetime.date(2025, 6, 1)


def row(receipt="R1", line=1, buyer=0, drug="布洛芬缓释胶囊", day=DAY, **extra) -> dict:
    name, code = BUYERS[buyer]
    values = {
        "receipt_number": receipt,
        "line": line,
        "sold_at": f"{day.isoformat()} 10:30",
        "drug_name": drug,
        "quantity": 1,
        "buyer_name": name,
        "buyer_id_number": code,
    }
    return values | extra


def submit(world, rows, user="shop", pharmacy=0, source=Source.API):
    numbered = list(enumerate(rows, start=1))
    return services.submit_records(world.users[user], world.pharmacies[pharmacy], numbered, source=source)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_buyer_is_encrypted_at_rest_and_read_back_in_clear(shops):
    submit(shops, [row()])
    record = PurchaseRecord.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT buyer_name, buyer_id_number, buyer_hash FROM pharmacy_purchaserecord")
        raw_name, raw_id, raw_hash = cursor.fetchone()
    assert raw_name.startswith("sm4gcm:v1:") and BUYERS[0][0] not in raw_name
    assert raw_id.startswith("sm4gcm:v1:") and BUYERS[0][1] not in raw_id
    assert BUYERS[0][1] not in raw_hash and len(raw_hash) == 64
    assert (record.buyer_name, record.buyer_id_number) == BUYERS[0]


def test_keyed_hash_counts_distinct_buyers(shops, monkeypatch):
    # Three purchases by two people (the second ID typed in lower case) and one more on another class.
    rows = [row("R1"), row("R2", buyer=1), row("R3", buyer=0, buyer_id_number=BUYERS[0][1].lower())]
    rows.append(row("R4", buyer=2, drug="蒙脱石散"))
    submit(shops, rows)
    fever = DailyCount.objects.get(drug_class__code="antipyretic")
    assert (fever.purchases, fever.buyers, fever.day) == (3, 2, DAY)
    assert DailyCount.objects.get(drug_class__code="antidiarrhoeal").buyers == 1
    # The hash is keyed: another key gives another hash, so a database copy alone cannot test guesses.
    first = privacy.buyer_hash(BUYERS[0][1])
    monkeypatch.setenv("YAOJIAN_BUYER_HASH_KEY", "00" * 32)
    assert privacy.buyer_hash(BUYERS[0][1]) != first


def test_masked_on_list_detail_export_api_and_audit(shops):
    submit(shops, [row()])
    record = PurchaseRecord.objects.get()
    name, code = BUYERS[0]
    district = client_for(shops.users["district"])
    pages = [
        district.get(reverse("pharmacy:record-list")),
        district.get(reverse("pharmacy:record-detail", args=[record.pk])),
        district.get(reverse("pharmacy:record-list"), {"export": "csv"}),
    ]
    for response in pages:
        text = response.content.decode("utf-8-sig")
        assert response.status_code == 200
        assert code not in text and name not in text
        assert code[:6] + "********" + code[-4:] in text and "张**" in text
    book = load_workbook(io.BytesIO(district.get(reverse("pharmacy:record-list"), {"export": "xlsx"}).content))
    cells = [str(c) for r in book.active.iter_rows(values_only=True) for c in r]
    assert code not in cells and name not in cells and "张**" in cells
    api = district.get(reverse("api:purchaserecord-list")).json()
    assert api["items"][0]["buyer_id_number"] == code[:6] + "********" + code[-4:]
    assert "buyer_hash" not in api["items"][0]
    trail = json.dumps([r.after for r in AuditRecord.objects.all()], ensure_ascii=False)
    assert code not in trail and name not in trail


def test_mask_format_matches_the_specification():
    from yaojian.core.identifiers import mask_resident_id

    assert mask_resident_id("11010519491231002X") == MASKED_ID


def test_reveal_is_audited_with_its_reason_and_refused_to_other_roles(shops):
    submit(shops, [row()])
    record = PurchaseRecord.objects.get()
    url = reverse("pharmacy:record-reveal", args=[record.pk])
    reason = "配合疾控流调核实身份"
    before = AuditRecord.objects.count()
    response = client_for(shops.users["district"]).post(url, {"reason": reason})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert BUYERS[0][1] in response.content.decode()
    audit = AuditRecord.objects.get(seq=before + 1) if before else AuditRecord.objects.order_by("-seq").first()
    assert audit.action == services.REVEAL and audit.object_id == str(record.pk)
    assert audit.after["reason"] == reason and audit.actor_name == "district"
    assert BUYERS[0][1] not in json.dumps(audit.after, ensure_ascii=False)
    # A reason is required; other roles are refused; a regulator elsewhere does not see the record.
    count = AuditRecord.objects.count()
    assert client_for(shops.users["district"]).post(url, {"reason": ""}).status_code == 400
    for role in ("admin", "inspector", "shop", "auditor", "adr_analyst"):
        assert client_for(shops.users[role]).post(url, {"reason": reason}).status_code == 403, role
    from yaojian.core.choices import Role
    from yaojian.core.testing import make_user

    wuxi = make_user("wuxi", Role.REGULATOR, "320213")
    assert client_for(wuxi).post(url, {"reason": reason}).status_code == 404
    assert AuditRecord.objects.count() == count


def test_purge_deletes_only_records_past_retention_and_keeps_counts(shops):
    today = datetime.date(2025, 12, 31)
    old_day, recent_day = today - datetime.timedelta(days=181), today - datetime.timedelta(days=180)
    submit(shops, [row("OLD", day=old_day), row("OLD", line=2, buyer=1, day=old_day), row("NEW", day=recent_day)])
    call_command("pharmacy", "purge", "--today", today.isoformat(), "--retention-days", "180")
    assert list(PurchaseRecord.objects.values_list("receipt_number", flat=True)) == ["NEW"]
    kept = DailyCount.objects.get(day=old_day)
    assert (kept.purchases, kept.buyers) == (2, 2)
    audit = AuditRecord.objects.order_by("-seq").first()
    assert audit.action == "delete" and audit.before["count"] == 2
    assert audit.before["sold_before"] == recent_day.isoformat()
    # A later refresh of those days leaves the kept counts alone.
    services.refresh_counts([old_day, recent_day])
    assert DailyCount.objects.get(day=old_day).buyers == 2


def _csv(rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["小票号", "行号", "销售时间", "药品名称", "监测类别", "数量", "购药人姓名", "身份证号"])
    for r in rows:
        writer.writerow(
            [
                r["receipt_number"],
                r["line"],
                r["sold_at"],
                r["drug_name"],
                r.get("drug_class", ""),
                r["quantity"],
                r["buyer_name"],
                r["buyer_id_number"],
            ]
        )
    return buffer.getvalue().encode(encoding)


def test_upload_errors_name_row_column_reason_and_write_nothing(shops, tmp_path):
    bad_id = BUYERS[1][1][:17] + ("0" if BUYERS[1][1][17] != "0" else "1")
    rows = [
        row("R1"),
        row("R2", buyer_id_number=bad_id),
        row("R3", drug="维生素C片"),
        row("R4", sold_at="2025-13-01"),
        row("R5", drug_class="止痛药"),
        row("R1"),  # the same receipt line twice
    ]
    path = tmp_path / "购药.csv"
    path.write_bytes(_csv(rows, "gbk"))
    with pytest.raises(services.SubmissionRejected) as caught:
        services.submit_records(shops.users["shop"], shops.pharmacies[0], read_rows(path), source=Source.UPLOAD)
    found = {(e.row, e.column) for e in caught.value.errors}
    assert found == {(3, "身份证号"), (4, "监测类别"), (5, "销售时间"), (6, "监测类别"), (7, "行号")}
    assert "校验位错误" in next(e.reason for e in caught.value.errors if e.row == 3)
    assert not PurchaseRecord.objects.exists() and not DailyCount.objects.exists()


def test_upload_page_is_idempotent_and_corrections_replace(shops):
    shop = client_for(shops.users["shop"])
    url = reverse("pharmacy:record-upload")
    rows = [row("R1"), row("R1", line=2, buyer=1, drug="连花清瘟胶囊"), row("R2", buyer=2)]
    for _attempt in range(2):
        upload = io.BytesIO(_csv(rows))
        upload.name = "购药.csv"
        assert shop.post(url, {"file": upload}).status_code == 302
    assert PurchaseRecord.objects.count() == 3
    imports = AuditRecord.objects.filter(action="import", object_type="pharmacy.purchaserecord").order_by("seq")
    assert [(a.after["created"], a.after["unchanged"]) for a in imports] == [(3, 0), (0, 3)]
    # An Excel file correcting one line replaces it.
    book = Workbook()
    sheet = book.active
    sheet.append(["小票号", "行号", "销售时间", "药品名称", "数量", "购药人姓名", "身份证号"])
    sheet.append(["R2", 1, datetime.datetime(2025, 6, 1, 11, 0), "对乙酰氨基酚片", 2, *BUYERS[2]])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    data.name = "更正.xlsx"
    assert shop.post(url, {"file": data}).status_code == 302
    corrected = PurchaseRecord.objects.get(receipt_number="R2")
    assert (corrected.quantity, corrected.drug_name, corrected.source) == (2, "对乙酰氨基酚片", Source.UPLOAD)
    # A bad file shows its errors, row by row.
    upload = io.BytesIO(_csv([row("R9", buyer_name="")]))
    upload.name = "错误.csv"
    response = shop.post(url, {"file": upload})
    assert response.status_code == 400 and "购药人姓名" in response.content.decode()


def test_api_submission_is_for_the_pharmacy_itself(shops):
    _token, key = ApiToken.issue(shops.users["shop"], "收银系统")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    url = reverse("api:purchaserecord-submit")
    payload = {"records": [row("A1"), row("A2", buyer=1)]}
    first = client.post(url, payload, content_type="application/json")
    assert first.status_code == 200 and first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    again = client.post(url, payload, content_type="application/json")
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert set(PurchaseRecord.objects.values_list("pharmacy_id", flat=True)) == {shops.pharmacies[0].pk}
    bad = client.post(url, {"records": [row("A3", buyer_id_number="123")]}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"] == [
        {"row": 1, "column": "身份证号", "reason": "身份证号无效：应为18位，实际为3位"}
    ]
    # Regulators and a manufacturer's account may not submit.
    for role in ("district", "enterprise"):
        _token, other = ApiToken.issue(shops.users[role], "x")
        response = Client(headers={"Authorization": f"Bearer {other}"}).post(
            url, payload, content_type="application/json"
        )
        assert response.status_code == 403, role
    assert PurchaseRecord.objects.count() == 2


def test_pharmacy_sees_only_its_own_records(shops):
    submit(shops, [row("MINE")])
    submit(shops, [row("THEIRS")], user="shop2", pharmacy=1)
    mine, theirs = (
        PurchaseRecord.objects.get(receipt_number="MINE"),
        PurchaseRecord.objects.get(receipt_number="THEIRS"),
    )
    shop = client_for(shops.users["shop"])
    listing = shop.get(reverse("pharmacy:record-list")).content.decode()
    assert "MINE" in listing and "THEIRS" not in listing
    assert shop.get(reverse("pharmacy:record-detail", args=[theirs.pk])).status_code == 404
    assert shop.get(reverse("pharmacy:record-detail", args=[mine.pk])).status_code == 200
    with pytest.raises(services.PermissionDenied):
        submit(shops, [row("X")], user="shop", pharmacy=1)
    assert client_for(shops.users["auditor"]).get(reverse("pharmacy:record-list")).status_code == 403
    assert client_for(shops.users["inspector"]).get(reverse("pharmacy:record-list")).status_code == 200


def test_form_entry_classifies_by_keyword(shops):
    shop = client_for(shops.users["shop"])
    data = row("F1", drug="磷酸奥司他韦胶囊") | {"sold_at": "2025-06-01T09:15"}
    assert shop.post(reverse("pharmacy:record-add"), data).status_code == 302
    assert PurchaseRecord.objects.get().drug_class.code == "antiviral"
    assert client_for(shops.users["enterprise"]).get(reverse("pharmacy:record-add")).status_code == 403
