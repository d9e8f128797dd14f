"""Normalisation, the shipped dictionary, set-based coding and the coding queue 编码与编码队列."""

import pytest
from django.core.exceptions import PermissionDenied

from yaojian.adr.models import AdrReaction, AdrReport, ReactionSynonym, ReactionTerm
from yaojian.casework import coding
from yaojian.casework.dictionary import SHIPPED, read_project_csv
from yaojian.casework.normalise import candidates, normalise
from yaojian.core.access import scoped
from yaojian.core.models import AuditRecord

from .cases import add_case


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("皮肤 瘙痒", "皮肤瘙痒"),
        ("　皮肤瘙痒！", "皮肤瘙痒"),  # ideographic space and full-width punctuation
        ("ＡＬＴ↑", "alt升高"),  # full-width Latin, arrow
        ("QT间期延长", "qt间期延长"),
        ("γ-GT升高", "γgt升高"),
        ("恶心、呕吐", "恶心呕吐"),
        ("  ", ""),
    ],
)
def test_normalise(raw, key):
    assert normalise(raw) == key


def test_candidates_trim_filler_only_as_a_fallback():
    assert candidates("皮疹反应") == ["皮疹反应", "皮疹"]
    assert candidates("出现头晕症状") == ["出现头晕症状", "头晕"]
    assert candidates("过敏反应") == ["过敏反应", "过敏"]  # the exact key comes first and wins when known
    assert candidates("痒反应") == ["痒反应"]  # never trimmed to a single character
    assert candidates("") == []


def test_shipped_dictionary_is_large_unambiguous_and_loaded(db):
    rows = read_project_csv(SHIPPED)
    assert len(rows) >= 250
    assert all(r.system_organ_class for r in rows)
    assert len({r.system_organ_class for r in rows}) >= 20
    owners: dict[str, set] = {}
    for row in rows:
        for key in row.keys():
            owners.setdefault(key, set()).add(row.code)
    ambiguous = {k: v for k, v in owners.items() if len(v) > 1}
    assert not ambiguous, f"同一同义词对应多个术语：{ambiguous}"
    # The migration loads it: every key is a synonym of its term.
    assert ReactionTerm.objects.filter(dictionary="yaojian").count() == len(rows)
    assert ReactionSynonym.objects.filter(term__dictionary="yaojian").count() == len(owners)


@pytest.fixture
def cases(world):
    ent = world.enterprises["gulou"]
    reports = {
        "a": add_case(ent, "CW-1", reactions=("皮肤瘙痒", "恶心")),
        "b": add_case(ent, "CW-2", reactions=("全身 瘙痒", "呕吐不止")),
        "c": add_case(ent, "CW-3", reactions=("ALT↑", "皮疹反应", "手足口周发麻感")),
        "d": add_case(ent, "CW-4", reactions=("手足口周发麻感",)),
        "x": add_case(world.enterprises["xuanwu"], "CW-XW", reactions=("手足口周发麻感", "舌尖刺痛")),
    }
    return reports


def term(name):
    return ReactionTerm.objects.get(dictionary="yaojian", name=name)


def test_code_pending_maps_synonyms_set_based(cases, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):  # distinct texts, synonyms, one UPDATE per term, audit
        result = coding.code_pending()
    coded = dict(AdrReaction.objects.values_list("reported_term", "coded_term__name"))
    assert coded["皮肤瘙痒"] == coded["全身 瘙痒"] == "瘙痒"
    assert coded["恶心"] == "恶心"
    assert coded["呕吐不止"] == "呕吐"
    assert coded["ALT↑"] == "丙氨酸氨基转移酶升高"
    assert coded["皮疹反应"] == "皮疹"  # via the trimmed key
    assert coded["手足口周发麻感"] is None and coded["舌尖刺痛"] is None
    assert result.coded == 6 and result.pending == 10
    record = AuditRecord.objects.get(object_type="adr.adrreaction")
    assert record.after["coded"] == 6 and len(record.after["content_sha256"]) == 64
    assert coding.code_pending().coded == 0  # idempotent, and no audit record for nothing
    assert AuditRecord.objects.filter(object_type="adr.adrreaction").count() == 1


def test_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    ent = world.enterprises["gulou"]
    for k in range(60):
        add_case(ent, f"CW-N{k}", reactions=("头晕", "恶心", "奇怪的感觉"))
    with django_assert_max_num_queries(20):
        assert coding.code_pending().coded == 120


def test_ambiguous_text_stays_uncoded(cases):
    rash, urticaria = term("皮疹"), term("荨麻疹")
    ReactionSynonym.objects.create(term=rash, text="起风团疹")
    ReactionSynonym.objects.create(term=urticaria, text="起风团疹")
    report = add_case(cases["a"].enterprise, "CW-AMB", reactions=("起风团疹",))
    assert coding.code_report(report) == 0
    assert report.reactions.get().coded_term is None


def test_inactive_terms_and_other_dictionaries_are_not_used(cases):
    ReactionTerm.objects.filter(name="恶心").update(active=False)
    meddra = ReactionTerm.objects.create(dictionary="meddra", code="10028813", name="恶心")
    ReactionSynonym.objects.create(term=meddra, text="恶心")
    coding.code_pending()
    assert AdrReaction.objects.get(reported_term="恶心").coded_term is None
    assert coding.code_pending(dictionary="meddra").coded == 1
    assert AdrReaction.objects.get(reported_term="恶心").coded_term == meddra


def test_code_report_codes_only_that_report(cases):
    assert coding.code_report(cases["a"]) == 2
    assert AdrReaction.objects.filter(report=cases["b"], coded_term__isnull=False).count() == 0


def test_queue_groups_by_normalised_text_within_jurisdiction(cases, world):
    add_case(world.enterprises["gulou"], "CW-5", reactions=("手足口周 发麻感！",))
    coding.code_pending()
    gulou = scoped(AdrReport.objects.all(), world.users["district"])
    rows = coding.queue(gulou)
    assert [(r.key, r.count) for r in rows] == [("手足口周发麻感", 3)]
    assert set(rows[0].variants) == {"手足口周发麻感", "手足口周 发麻感！"}
    assert rows[0].first_report == "CW-3"
    everywhere = coding.queue(AdrReport.objects.all())
    assert [(r.key, r.count) for r in everywhere] == [("手足口周发麻感", 4), ("舌尖刺痛", 1)]
    assert [r.key for r in coding.queue(AdrReport.objects.all(), "舌尖")] == ["舌尖刺痛"]


def test_queue_leaves_out_merged_and_nullified_reports(cases):
    AdrReport.objects.filter(pk=cases["d"].pk).update(duplicate_of=cases["c"])
    AdrReport.objects.filter(pk=cases["x"].pk).update(is_nullified=True)
    coding.code_pending()
    rows = coding.queue(AdrReport.objects.all())
    assert [(r.key, r.count) for r in rows] == [("手足口周发麻感", 1)]


def test_resolve_adds_synonym_and_codes_every_pending_reaction(cases, world):
    coding.code_pending()
    numbness = term("感觉异常")
    coded = coding.resolve("手足口周 发麻感", numbness, actor=world.users["adr_analyst"])
    assert coded == 3  # 鼓楼 twice and 玄武 once: the dictionary is national
    assert ReactionSynonym.objects.filter(term=numbness, text="手足口周发麻感").exists()
    assert AdrReaction.objects.filter(reported_term="手足口周发麻感", coded_term=numbness).count() == 3
    actions = set(
        AuditRecord.objects.filter(actor_id=world.users["adr_analyst"].pk).values_list("object_type", flat=True)
    )
    assert actions == {"adr.reactionsynonym", "adr.adrreaction"}
    # A later report with that text is coded automatically.
    later = add_case(world.enterprises["gulou"], "CW-6", reactions=("手足口周发麻感",))
    assert coding.code_report(later) == 1


def test_resolve_needs_the_rights(cases, world):
    with pytest.raises(PermissionDenied):
        coding.resolve("舌尖刺痛", term("疼痛"), actor=world.users["inspector"])
    assert not ReactionSynonym.objects.filter(text="舌尖刺痛").exists()
