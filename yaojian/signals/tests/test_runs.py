"""Stored runs on the database 数据库检测: counts against hand computation, exclusions, strata,
criteria → signals once, idempotent re-runs, workflow, scoping, the command."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from yaojian.core import access
from yaojian.core.models import AuditRecord

from .. import services
from ..models import PairResult, RunStatus, Signal, SignalEvent, SignalRun, SignalStatus
from .cases import NAUSEA, add_case, build_cases

PERIOD = {"date_from": datetime.date(2025, 1, 1), "date_to": datetime.date(2025, 12, 31)}
# Only the PRR rule with χ² ≥ 2: on the hand set exactly (P, 皮疹) qualifies (PRR 5.6, χ² 2.83, N 4).
PRR_ONLY = {"methods": ["PRR"], "chi2": 2.0}


@pytest.fixture
def cases(world):
    return build_cases(world)


def run(actor=None, prefix="320106", **kwargs):
    return services.run_signals(actor, division_prefix=prefix, **{**PERIOD, **kwargs})


def pairs(signal_run) -> dict:
    return {(r.drug_label, r.event_label): r for r in signal_run.results.all()}


def test_counts_match_hand_computation(cases):
    signal_run = run(criteria=PRR_ONLY)
    assert (signal_run.status, signal_run.n_reports, signal_run.n_pairs) == (RunStatus.DONE, 12, 5)
    got = {key: (r.n, round(r.expected, 6)) for key, r in pairs(signal_run).items()}
    product = cases["label"]
    assert got == {
        (product, "皮疹"): (4, round(5 * 5 / 12, 6)),
        (product, NAUSEA): (2, round(5 * 8 / 12, 6)),
        ("头孢克肟", NAUSEA): (1, round(8 / 12, 6)),  # the concomitant 头孢克肟 of case 5 does not count
        ("ibu布洛芬", "皮疹"): (1, 2.5),  # ＩＢＵ布洛芬 and "ibu布洛芬 " are one drug
        ("ibu布洛芬", NAUSEA): (5, 4.0),
    }
    rash = pairs(signal_run)[(product, "皮疹")]
    assert rash.product == cases["product"] and rash.term == cases["rash"]
    assert rash.drug_key == f"product:{cases['product'].pk}" and rash.event_key == f"term:{cases['rash'].pk}"
    # The case series: duplicates (13), nullified (14) and 玄武区 are left out.
    assert sorted(rash.report_ids) == sorted(cases["cases"][k].pk for k in (1, 2, 3, 4))
    assert rash.prr == pytest.approx(5.6) and rash.prr_chi2 == pytest.approx(3468 / 1225)
    assert rash.ror == pytest.approx(24.0) and rash.eb05 is not None and rash.ic025 is not None
    assert set(signal_run.prior) >= {"alpha1", "beta1", "alpha2", "beta2", "P"}


def test_sex_strata_give_the_stratified_expected_count(cases):
    signal_run = run(strata=["sex"])
    rash = pairs(signal_run)[(cases["label"], "皮疹")]
    # F: 9 reports, P in 3, 皮疹 in 3 → 1; M: 3 reports, P in 2, 皮疹 in 2 → 4/3.
    assert rash.expected == pytest.approx(1 + 4 / 3)
    age = pairs(run(strata=["age_group", "year"]))[(cases["label"], "皮疹")]
    # adult: 9 reports (P 3, 皮疹 3) → 1; elderly: 2 reports (P 2, 皮疹 1) → 1; child: no P.
    assert age.expected == pytest.approx(2.0)


def test_criteria_make_signals_once_and_reruns_are_idempotent(cases, world):
    first = run(world.users["adr_analyst"], criteria=PRR_ONLY)
    assert (first.n_flagged, first.n_new_signals) == (1, 1)
    signal = Signal.objects.get()
    assert (signal.product, signal.term, signal.status) == (cases["product"], cases["rash"], SignalStatus.NEW)
    assert signal.first_run == signal.latest_run == first and signal.division_code == "320106"
    assert AuditRecord.objects.filter(object_type="signals.signalrun", object_id=str(first.pk)).count() == 1

    second = run(world.users["adr_analyst"], criteria=PRR_ONLY)
    assert (second.n_flagged, second.n_new_signals) == (1, 0)
    signal.refresh_from_db()
    assert signal.first_run == first and signal.latest_run == second
    assert signal.latest_result.run == second and Signal.objects.count() == 1
    assert second.results.count() == first.results.count() == 5
    series = signal.latest_result.series
    assert series["quarters"] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"] and series["n"] == [4, 4, 4, 4]
    assert series["ic025"][0] < series["ic"][0] < series["ic975"][0]
    assert series["eb05"][0] <= series["ebgm"][0] <= series["eb95"][0]


def test_quarterly_series_cumulates(cases, world):
    later = datetime.date(2025, 8, 1)
    add_case(world.enterprises["gulou"], "SIG-Q3", [(cases["product"], "suspect")], [cases["rash"]], day=later)
    signal_run = run(criteria=PRR_ONLY)
    rash = pairs(signal_run)[(cases["label"], "皮疹")]
    series = rash.series
    assert series["n"] == [4, 4, 5, 5]
    assert series["expected"][0] == pytest.approx(25 / 12) and series["expected"][2] == pytest.approx(36 / 13)
    assert series["ic"][3] == pytest.approx(rash.ic) and series["ebgm"][3] == pytest.approx(rash.ebgm)


def test_no_reports_is_a_failed_run(world):
    with pytest.raises(services.SignalRunError, match="没有可用于检测的报告"):
        run(world.users["district"])
    failed = SignalRun.objects.get()
    assert failed.status == RunStatus.FAILED and "没有" in failed.error
    assert AuditRecord.objects.filter(object_type="signals.signalrun").count() == 1


def test_bad_criteria_are_refused(cases):
    with pytest.raises(services.SignalRunError):
        run(criteria={"methods": ["XYZ"]})
    with pytest.raises(services.SignalRunError):
        run(criteria={"min_methods": 3, "methods": ["PRR"]})
    with pytest.raises(services.SignalRunError):
        run(strata=["blood_type"])


def test_runs_stay_inside_the_jurisdiction(cases, world):
    with pytest.raises(PermissionDenied):
        run(world.users["district"], prefix="3201")  # a district regulator cannot run for the whole city
    with pytest.raises(PermissionDenied):
        run(world.users["inspector"])
    city = run(world.users["city"], prefix="3201", criteria=PRR_ONLY)
    assert city.n_reports == 13  # 玄武区's case joins
    district = run(world.users["district"], criteria=PRR_ONLY)
    visible = {
        role: set(access.scoped(SignalRun.objects.all(), world.users[role]).values_list("pk", flat=True))
        for role in ("admin", "province", "city", "district", "adr_analyst", "inspector", "enterprise")
    }
    assert visible["admin"] == visible["province"] == visible["city"] == {city.pk, district.pk}
    assert visible["district"] == visible["adr_analyst"] == {district.pk}
    assert visible["inspector"] == visible["enterprise"] == set()
    assert set(
        access.scoped(Signal.objects.all(), world.users["district"]).values_list("division_code", flat=True)
    ) == {"320106"}
    assert not access.scoped(PairResult.objects.filter(run=city), world.users["district"]).exists()


def test_workflow_transitions(cases, world):
    run(criteria=PRR_ONLY)
    signal = Signal.objects.get()
    analyst = world.users["adr_analyst"]
    with pytest.raises(ValueError, match="不能从"):
        services.transition(signal, actor=analyst, to_status=SignalStatus.CONFIRMED)
    signal = services.transition(signal, actor=analyst, to_status=SignalStatus.ASSESSING, assignee=analyst)
    assert (signal.status, signal.assignee) == (SignalStatus.ASSESSING, analyst)
    signal = services.transition(signal, actor=analyst, to_status=SignalStatus.CONFIRMED, note="病例因果关联明确")
    with pytest.raises(ValueError):
        services.transition(signal, actor=analyst, to_status=SignalStatus.ASSESSING)  # confirmed is final
    with pytest.raises(PermissionDenied):
        services.transition(signal, actor=world.users["inspector"], note="无权")
    with pytest.raises(PermissionDenied):  # out of jurisdiction: a Wuxi-only account
        other = world.users["district"]
        other.division_id = "320213"
        services.transition(signal, actor=other, note="越权")
    history = list(SignalEvent.objects.values_list("from_status", "to_status", "note"))
    assert history == [("new", "assessing", ""), ("assessing", "confirmed", "病例因果关联明确")]
    audits = AuditRecord.objects.filter(object_type="signals.signal", object_id=str(signal.pk))
    assert audits.count() == 2 and audits.first().after["status"] == "confirmed"


def test_detect_command(cases):
    out = io.StringIO()
    call_command(
        "signals",
        "detect",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--division",
        "320106",
        "--criteria",
        "methods=PRR",
        "chi2=2",
        stdout=out,
    )
    text = out.getvalue()
    assert "报告 12 份" in text and "组合 5 个" in text and "新信号 1 个" in text
    assert SignalRun.objects.get().created_by is None


def test_detect_command_refuses_bad_input(cases):
    from django.core.management.base import CommandError

    base = ["signals", "detect", "--from", "2025-01-01", "--to", "2025-12-31"]
    with pytest.raises(CommandError, match="未知的行政区划代码"):
        call_command(*base, "--division", "999999")
    with pytest.raises(CommandError, match="无法识别的判定标准"):
        call_command(*base, "--criteria", "prr")
    with pytest.raises(CommandError, match="不是数字"):
        call_command(*base, "--criteria", "eb05=high")
    with pytest.raises(CommandError, match="没有可用于检测的报告"):
        call_command("signals", "detect", "--from", "2020-01-01", "--to", "2020-12-31")
