"""Duplicate detection 重复报告: blocking, scores, the queue, merge/unmerge/dismiss with audit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from yaojian.adr.models import AdrReport
from yaojian.casework import coding, dedupe
from yaojian.casework.config import active_config, publish_config
from yaojian.casework.models import CandidateStatus, DuplicateCandidate
from yaojian.core.models import AuditRecord

from .cases import add_case

ONSET = datetime.date(2025, 2, 20)


def onset(n=0):
    return ONSET + datetime.timedelta(days=n)


@pytest.fixture
def pairs(world):
    """Reports of 鼓楼 and 玄武 with the duplicates one would expect (and near misses)."""
    gulou, xuanwu = world.enterprises["gulou"], world.enterprises["xuanwu"]
    p = {"patient_sex": "F", "patient_age": 45}
    r = {
        # An exact repeat from two units: same drug and batch, same reaction and onset, same initials.
        1: add_case(
            gulou,
            "DD-1",
            drugs=(("阿莫西林胶囊", "B1"),),
            reactions=(("皮疹", onset()),),
            **p,
            patient_initials="ZS",
            reporter_unit="甲医院",
        ),
        2: add_case(
            gulou,
            "DD-2",
            drugs=(("阿莫西林 胶囊", "b1"),),
            reactions=(("起疹子", onset(1)),),
            **p,
            patient_initials="zs",
            reporter_unit="持有人",
        ),
        # Same drug and reaction, a year older, onset 5 days apart: lower score.
        3: add_case(
            gulou, "DD-3", drugs=("阿莫西林胶囊",), reactions=(("皮疹", onset(5)),), patient_sex="F", patient_age=46
        ),
        # Near misses: other sex; age 4+ years off; onset beyond the tolerance; other reaction; other drug.
        4: add_case(
            gulou, "DD-4", drugs=("阿莫西林胶囊",), reactions=(("皮疹", onset()),), patient_sex="M", patient_age=45
        ),
        5: add_case(
            gulou, "DD-5", drugs=("阿莫西林胶囊",), reactions=(("皮疹", onset()),), patient_sex="F", patient_age=50
        ),
        6: add_case(gulou, "DD-6", drugs=("阿莫西林胶囊",), reactions=(("皮疹", onset(30)),), **p),
        7: add_case(gulou, "DD-7", drugs=("阿莫西林胶囊",), reactions=(("头晕", onset()),), **p),
        8: add_case(gulou, "DD-8", drugs=("头孢克肟",), reactions=(("皮疹", onset()),), **p),
        # The same case reported in 玄武: a cross-district pair, seen only from the city up.
        9: add_case(
            xuanwu, "DD-9", drugs=(("阿莫西林胶囊", "B1"),), reactions=(("皮疹", onset()),), **p, patient_initials="ZS"
        ),
    }
    coding.code_pending()  # 起疹子 → 皮疹: coded reactions block on the term
    return r


def scored(reports=None):
    return {(p["a"], p["b"]): p for p in dedupe.score_pairs(reports or AdrReport.objects.all(), active_config())}


def key(r, x, y):
    return (r[x].pk, r[y].pk)


def test_blocking_and_scores(pairs):
    found = scored()
    assert set(found) == {key(pairs, *p) for p in ((1, 2), (1, 3), (2, 3), (1, 9), (2, 9), (3, 9))}
    best = found[key(pairs, 1, 2)]
    # drug .25 + reaction .25 + sex .1 + age .1 + onset .15×(1−1/8) + batch .05 + initials .1
    assert best["score"] == pytest.approx(0.25 + 0.25 + 0.1 + 0.1 + 0.15 * 7 / 8 + 0.05 + 0.1)
    assert best["evidence"]["drugs"] and best["evidence"]["reactions"] == ["皮疹"]
    assert best["evidence"]["shared_batch"] and best["evidence"]["same_initials"]
    assert best["evidence"]["onset_days_apart"] == 1
    older = found[key(pairs, 1, 3)]  # age ±1 counts half, onset 5 days apart, no batch or initials
    assert older["score"] == pytest.approx(0.25 + 0.25 + 0.1 + 0.05 + 0.15 * 3 / 8)
    for miss in (4, 5, 6, 7, 8):
        assert not any(pairs[miss].pk in pair for pair in found), f"DD-{miss} 不应成对"


def test_threshold_and_weights_come_from_the_parameters(pairs, world):
    assert key(pairs, 1, 3) in scored()
    publish_config({"duplicate_threshold": 0.8}, actor=world.users["admin"], note="提高阈值")
    found = scored()
    assert key(pairs, 1, 3) not in found and key(pairs, 1, 2) in found


def test_find_duplicates_queues_pairs_with_the_common_jurisdiction(pairs, world):
    result = dedupe.find_duplicates(actor=None)
    assert result.created == result.candidates > 0
    pair = DuplicateCandidate.objects.get(report_a=pairs[1], report_b=pairs[2])
    assert pair.division_code == "320106" and pair.status == CandidateStatus.PENDING
    assert DuplicateCandidate.objects.get(report_a=pairs[1], report_b=pairs[9]).division_code == "3201"
    record = AuditRecord.objects.get(object_type="casework.duplicatecandidate")
    assert record.after["created"] == result.created and len(record.after["content_sha256"]) == 64


def test_page_run_covers_the_users_jurisdiction_only(pairs, world):
    from yaojian.core.access import scoped

    district = world.users["district"]
    dedupe.find_duplicates(scoped(AdrReport.objects.all(), district), actor=district)
    assert not DuplicateCandidate.objects.filter(report_b=pairs[9]).exists()


def test_rerun_keeps_reviewed_pairs_and_never_recreates_a_dismissed_one(pairs, world):
    analyst = world.users["province"]
    dedupe.find_duplicates()
    pair = DuplicateCandidate.objects.get(report_a=pairs[1], report_b=pairs[2])
    dedupe.dismiss(pair, actor=analyst)
    again = dedupe.find_duplicates()
    assert again.created == 0 and again.kept_reviewed == 1
    pair.refresh_from_db()
    assert pair.status == CandidateStatus.DISMISSED
    assert DuplicateCandidate.objects.filter(report_a=pairs[1], report_b=pairs[2]).count() == 1


def test_merge_unmerge_round_trip(pairs, world):
    reviewer = world.users["district"]
    dedupe.find_duplicates()
    pair = DuplicateCandidate.objects.get(report_a=pairs[1], report_b=pairs[2])
    dedupe.merge(pair, actor=reviewer, keep=pairs[2])
    pair.refresh_from_db()
    assert (pair.status, pair.kept, pair.reviewer) == (CandidateStatus.MERGED, pairs[2], reviewer)
    assert AdrReport.objects.get(pk=pairs[1].pk).duplicate_of == pairs[2]
    # Merged cases drop out of counts and of the next run.
    assert not coding.counted_reports(AdrReport.objects.filter(pk=pairs[1].pk)).exists()
    with pytest.raises(ValidationError):
        dedupe.merge(pair, actor=reviewer)
    dedupe.unmerge(pair, actor=reviewer)
    pair.refresh_from_db()
    assert (pair.status, pair.kept) == (CandidateStatus.PENDING, None)
    assert AdrReport.objects.get(pk=pairs[1].pk).duplicate_of is None
    trail = list(AuditRecord.objects.filter(actor_id=reviewer.pk).order_by("seq").values_list("object_type", "action"))
    assert trail == [
        ("adr.adrreport", "update"),
        ("casework.duplicatecandidate", "update"),
        ("adr.adrreport", "update"),
        ("casework.duplicatecandidate", "update"),
    ]


def test_a_report_already_merged_elsewhere_is_not_merged_twice(pairs):
    dedupe.find_duplicates()
    first = DuplicateCandidate.objects.get(report_a=pairs[1], report_b=pairs[2])
    second = DuplicateCandidate.objects.get(report_a=pairs[2], report_b=pairs[9])
    dedupe.merge(first, actor=None)  # DD-2 → DD-1
    with pytest.raises(ValidationError, match="已被合并"):
        dedupe.merge(second, actor=None)


def test_review_needs_rights_and_jurisdiction(pairs, world):
    dedupe.find_duplicates()
    cross = DuplicateCandidate.objects.get(report_a=pairs[1], report_b=pairs[9])
    with pytest.raises(PermissionDenied):
        dedupe.merge(cross, actor=world.users["district"])  # 玄武's report is outside 鼓楼
    with pytest.raises(PermissionDenied):
        dedupe.dismiss(cross, actor=world.users["inspector"])
    dedupe.merge(cross, actor=world.users["city"])
    assert AdrReport.objects.get(pk=pairs[9].pk).duplicate_of == pairs[1]


def test_command(pairs, capsys):
    call_command("casework", "dedupe")
    assert "新增" in capsys.readouterr().out
    assert DuplicateCandidate.objects.exists()


def test_no_reports(db):
    assert dedupe.find_duplicates(AdrReport.objects.none()).candidates == 0
