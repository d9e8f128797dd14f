"""Case-work pages 病例处理页面: dictionary, coding queue, deadlines, timeliness, parameters, duplicates."""

import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from yaojian.adr.models import AdrReaction, AdrReport, ReactionSynonym, ReactionTerm
from yaojian.casework import coding, dedupe
from yaojian.casework.config import active_config
from yaojian.casework.models import CandidateStatus, DuplicateCandidate
from yaojian.core.models import AuditRecord

from .cases import add_case

D = datetime.date(2025, 4, 1)


def client_for(world, role):
    client = Client()
    client.force_login(world.users[role])
    return client


@pytest.fixture
def analyst(world):
    return client_for(world, "adr_analyst")


def sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


PAGES = (
    "casework:term-list",
    "casework:term-add",
    "casework:coding-queue",
    "casework:deadline-list",
    "casework:timeliness",
    "casework:config",
    "casework:duplicate-list",
)


@pytest.mark.parametrize("name", PAGES)
def test_pages_open_for_the_analyst_and_not_for_inspectors_or_enterprises(world, analyst, name):
    response = analyst.get(reverse(name))
    assert response.status_code == 200
    assert "<title>" in response.content.decode()
    for role in ("inspector", "enterprise"):
        assert client_for(world, role).get(reverse(name)).status_code == 403


def test_menu_shows_case_work_to_the_analyst_only(world, analyst):
    html = analyst.get(reverse("home")).content.decode()
    for label in ("编码队列", "报告时限", "重复报告"):
        assert label in html
    assert "编码队列" not in client_for(world, "inspector").get(reverse("home")).content.decode()


def test_term_search_fragment_suggests_terms_contained_in_the_text(analyst):
    html = analyst.get(reverse("casework:term-search"), {"term_q": "皮肤瘙痒难忍"}).content.decode()
    assert "瘙痒" in html and 'type="radio"' in html
    assert "未找到" in analyst.get(reverse("casework:term-search"), {"q": "完全无关词"}).content.decode()


def test_coding_queue_and_resolution(world, analyst):
    ent = world.enterprises["gulou"]
    for k in range(3):
        add_case(ent, f"Q-{k}", reactions=("手足口周发麻感",))
    add_case(world.enterprises["liangxi"], "Q-LX", reactions=("梁溪特有怪症",))
    coding.code_pending()
    html = analyst.get(reverse("casework:coding-queue")).content.decode()
    assert "手足口周发麻感" in html and "Q-0" in html
    assert "梁溪特有怪症" not in html  # outside 鼓楼区
    rows = sheet(analyst.get(reverse("casework:coding-queue"), {"export": "xlsx"}))
    assert rows[0][0] == "规范化文本" and rows[1][0] == "手足口周发麻感" and rows[1][2] == "3"
    term = ReactionTerm.objects.get(dictionary="yaojian", name="感觉异常")
    response = analyst.post(reverse("casework:coding-resolve"), {"text": "手足口周发麻感", "term": term.pk})
    assert response.status_code == 302
    assert AdrReaction.objects.filter(coded_term=term, reported_term="手足口周发麻感").count() == 3
    assert "暂无待编码术语" in analyst.get(reverse("casework:coding-queue")).content.decode()
    missing = analyst.post(reverse("casework:coding-resolve"), {"text": "x"})
    assert missing.status_code == 400 and "请先搜索并选择标准术语" in missing.content.decode()


def test_term_add_and_edit_with_synonyms(analyst, world):
    response = analyst.post(
        reverse("casework:term-add"),
        {
            "dictionary": "yaojian",
            "code": "YJ9001",
            "name": "手足口周麻木",
            "system_organ_class": "各种神经系统疾病",
            "active": "on",
            "new_synonyms": "口周发麻\n手足 发麻",
        },
    )
    term = ReactionTerm.objects.get(code="YJ9001")
    assert response.status_code == 302
    assert set(term.synonyms.values_list("text", flat=True)) == {"手足口周麻木", "口周发麻", "手足发麻"}
    response = analyst.post(
        reverse("casework:term-edit", args=[term.pk]),
        {
            "name": "手足口周麻木",
            "name_en": "Perioral numbness",
            "system_organ_class": "各种神经系统疾病",
            "active": "on",
        },
    )
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.name_en == "Perioral numbness" and term.code == "YJ9001"
    page = analyst.get(reverse("casework:term-edit", args=[term.pk])).content.decode()
    assert "口周发麻" in page and "perioralnumbness" in page
    actions = list(
        AuditRecord.objects.filter(object_type="adr.reactionterm").order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["create", "update"]
    listing = analyst.get(reverse("casework:term-list"), {"q": "口周发麻"}).content.decode()
    assert "YJ9001" in listing
    assert ReactionSynonym.objects.filter(term=term).count() == 4


def test_deadline_list_shows_late_cases_and_exports(world, analyst):
    ent = world.enterprises["gulou"]
    add_case(
        ent,
        "LATE-1",
        seriousness="serious",
        received_on=D,
        reported_on=D + datetime.timedelta(days=16),
        reporter_unit="甲医院",
    )
    add_case(ent, "OK-1", seriousness="serious", received_on=D, reported_on=D + datetime.timedelta(days=15))
    add_case(ent, "SEN-1", source="sentinel", sold_on=D, received_on=D, reported_on=D + datetime.timedelta(days=9))
    add_case(
        world.enterprises["xuanwu"],
        "LATE-XW",
        seriousness="death",
        received_on=D,
        reported_on=D + datetime.timedelta(days=3),
    )
    html = analyst.get(reverse("casework:deadline-list")).content.decode()
    assert "LATE-1" in html and "超期 1 天" in html
    assert "OK-1" not in html and "LATE-XW" not in html
    sentinel = analyst.get(reverse("casework:deadline-list"), {"kind": "sentinel_late"}).content.decode()
    assert "SEN-1" in sentinel and "超出 2 天" in sentinel and "LATE-1" not in sentinel
    rows = sheet(analyst.get(reverse("casework:deadline-list"), {"kind": "all", "export": "xlsx"}))
    numbers = {r[0] for r in rows[1:]}
    assert {"LATE-1", "OK-1", "SEN-1", "ADR-gulou-1"} == numbers
    city = client_for(world, "city").get(reverse("casework:deadline-list")).content.decode()
    assert "LATE-XW" in city


def test_followup_lists(world, analyst):
    today = datetime.date.today()
    add_case(world.enterprises["gulou"], "FU-1", seriousness="death", received_on=today - datetime.timedelta(days=14))
    near = analyst.get(reverse("casework:deadline-list"), {"kind": "followup_near"}).content.decode()
    assert "FU-1" in near
    assert "FU-1" not in analyst.get(reverse("casework:deadline-list"), {"kind": "followup_overdue"}).content.decode()


def test_timeliness_page_and_export(world, analyst):
    ent = world.enterprises["gulou"]
    add_case(ent, "T-1", reporter_unit="甲医院", received_on=D, reported_on=D + datetime.timedelta(days=40))
    add_case(ent, "T-2", reporter_unit="甲医院", received_on=D, reported_on=D + datetime.timedelta(days=2))
    html = analyst.get(reverse("casework:timeliness")).content.decode()
    assert "甲医院" in html and "50.0%" in html
    rows = sheet(analyst.get(reverse("casework:timeliness"), {"export": "xlsx"}))
    assert rows[0][:3] == ["报告单位", "报告数", "按时报告数"]
    assert ["甲医院", "2", "1"] in [r[:3] for r in rows]
    empty = analyst.get(reverse("casework:timeliness"), {"reported_from": "2030-01-01"}).content.decode()
    assert "暂无数据" in empty


def test_config_is_published_by_the_administrator_only(world):
    form = {**active_config().parameters, "serious_days": 10, "note": "试行"}
    regulator = client_for(world, "district")
    assert regulator.post(reverse("casework:config"), form).status_code == 403
    admin = client_for(world, "admin")
    bad = admin.post(reverse("casework:config"), {**form, "weight_drug": 0.9})
    assert bad.status_code == 400 and "权重之和应为 1" in bad.content.decode()
    assert admin.post(reverse("casework:config"), form).status_code == 302
    assert active_config().version == 2 and active_config().value("serious_days") == 10
    assert "v2" in regulator.get(reverse("casework:config")).content.decode()


def test_duplicate_queue_run_review_and_unmerge(world, analyst):
    ent = world.enterprises["gulou"]
    onset = (("皮疹", D),)
    a = add_case(ent, "DUP-1", reactions=onset, patient_sex="F", patient_age=30, patient_initials="LS")
    b = add_case(ent, "DUP-2", reactions=onset, patient_sex="F", patient_age=30, patient_initials="LS")
    assert "暂无数据" in analyst.get(reverse("casework:duplicate-list")).content.decode()
    assert analyst.post(reverse("casework:dedupe-run")).status_code == 302
    pair = DuplicateCandidate.objects.get(report_a=a, report_b=b)
    listing = analyst.get(reverse("casework:duplicate-list"), {"status": "pending"}).content.decode()
    assert "DUP-1" in listing and "运行识别" in listing
    url = reverse("casework:duplicate-detail", args=[pair.pk])
    page = analyst.get(url).content.decode()
    assert "合并（保留报告甲）" in page and "DUP-2" in page and "药品 0.25" in page
    assert analyst.post(url, {"step": "merge"}).status_code == 400  # which one to keep?
    assert analyst.post(url, {"step": "merge", "keep": "a"}).status_code == 302
    assert AdrReport.objects.get(pk=b.pk).duplicate_of == a
    assert "撤销合并" in analyst.get(url).content.decode()
    assert analyst.post(url, {"step": "unmerge"}).status_code == 302
    assert AdrReport.objects.get(pk=b.pk).duplicate_of is None
    assert analyst.post(url, {"step": "dismiss"}).status_code == 302
    pair.refresh_from_db()
    assert pair.status == CandidateStatus.DISMISSED
    assert dedupe.find_duplicates().created == 0
    rows = sheet(analyst.get(reverse("casework:duplicate-list"), {"export": "xlsx"}))
    assert rows[1][1:3] == ["DUP-1", "DUP-2"]
