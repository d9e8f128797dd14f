"""List tables 列表 of the signal workbench (django-tables2)."""

import django_tables2 as tables

from yaojian.adr.models import AdrReport
from yaojian.core.views_generic import RecordTable

from .models import PairResult, Signal, SignalRun, scope_name


class MeasureColumn(tables.Column):
    """A measure with three decimals; empty when not defined (χ² with an empty margin)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return f"{value:.3f}"

    def value(self, value):
        return value


class SignalRunTable(RecordTable):
    id = tables.Column(verbose_name="编号", linkify=True)
    scope = tables.Column(verbose_name="范围", accessor="division_code", orderable=False)
    created_by = tables.Column(verbose_name="发起人")

    class Meta(RecordTable.Meta):
        model = SignalRun
        fields = (
            "id",
            "started_at",
            "scope",
            "date_from",
            "date_to",
            "category",
            "n_reports",
            "n_pairs",
            "n_flagged",
            "n_new_signals",
            "status",
            "duration_s",
            "created_by",
        )

    def render_scope(self, value):
        return scope_name(value)

    def render_duration_s(self, value):
        return f"{value:.2f}"


class SignalTable(RecordTable):
    drug_label = tables.Column(verbose_name="药品", linkify=lambda record: record.get_absolute_url())
    n = tables.Column(verbose_name="N", accessor="latest_result__n")
    ebgm = MeasureColumn(verbose_name="EBGM", accessor="latest_result__ebgm")
    eb05 = MeasureColumn(verbose_name="EB05", accessor="latest_result__eb05")
    ic025 = MeasureColumn(verbose_name="IC025", accessor="latest_result__ic025")
    prr = MeasureColumn(verbose_name="PRR", accessor="latest_result__prr")
    ror_lo = MeasureColumn(verbose_name="ROR025", accessor="latest_result__ror_lo")
    first_run = tables.Column(verbose_name="首次发现", linkify=True)
    latest_run = tables.Column(verbose_name="最近满足标准", linkify=True)

    class Meta(RecordTable.Meta):
        model = Signal
        fields = ("drug_label", "event_label", "status", "assignee", "n", "ebgm", "eb05", "ic025", "prr", "ror_lo")
        sequence = (*fields, "first_run", "latest_run")

    def render_first_run(self, value):
        return f"第 {value.pk} 次"

    render_latest_run = render_first_run


class PairResultTable(RecordTable):
    drug_label = tables.Column(verbose_name="药品", linkify=lambda record: record.get_absolute_url())
    ebgm = MeasureColumn()
    eb05 = MeasureColumn()
    eb95 = MeasureColumn()
    ic = MeasureColumn()
    ic025 = MeasureColumn()
    prr = MeasureColumn()
    prr_chi2 = MeasureColumn()
    ror = MeasureColumn()
    ror_lo = MeasureColumn()
    expected = MeasureColumn()

    class Meta(RecordTable.Meta):
        model = PairResult
        fields = (
            "drug_label",
            "event_label",
            "n",
            "expected",
            "prr",
            "prr_chi2",
            "ror",
            "ror_lo",
            "ic",
            "ic025",
            "ebgm",
            "eb05",
            "eb95",
            "flags",
            "meets_criteria",
        )


class CaseSeriesTable(RecordTable):
    """The reports behind a pair 病例系列; patient data masked."""

    report_number = tables.Column(linkify=True)
    patient = tables.Column(verbose_name="患者", accessor="patient_name_masked", orderable=False)

    class Meta(RecordTable.Meta):
        model = AdrReport
        fields = (
            "report_number",
            "reported_on",
            "patient",
            "patient_sex",
            "patient_age",
            "reaction",
            "seriousness",
            "outcome",
            "causality",
            "product",
        )
        attrs = {"class": "case-series"}

    def render_patient(self, value, record):
        return value or record.patient_initials or "—"
