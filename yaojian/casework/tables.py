"""List tables 列表 of case work (django-tables2)."""

import datetime

import django_tables2 as tables
from django.urls import reverse

from yaojian.adr.models import AdrReport, ReactionTerm
from yaojian.core.views_generic import RecordTable

from .deadlines import days_late
from .models import DuplicateCandidate


class TermTable(RecordTable):
    name = tables.Column(linkify=lambda record: reverse("casework:term-edit", args=[record.pk]))
    n_synonyms = tables.Column(verbose_name="同义词数", attrs={"td": {"class": "num"}})

    class Meta(RecordTable.Meta):
        model = ReactionTerm
        fields = ("code", "name", "name_en", "system_organ_class", "dictionary", "version", "active", "n_synonyms")


class DeadlineTable(RecordTable):
    """Reports with their deadline figures (``deadlines.annotate_timeliness`` columns)."""

    report_number = tables.Column(linkify=True)
    unit = tables.Column(verbose_name="报告单位", accessor="tl_unit", orderable=False)
    tl_start = tables.Column(verbose_name="计时起点")
    basis = tables.Column(verbose_name="时限", accessor="tl_limit", orderable=False)
    due_on = tables.Column(verbose_name="应报日期", accessor="tl_start", orderable=False)
    late_days = tables.Column(verbose_name="超期天数", accessor="tl_excess", orderable=False)
    sentinel = tables.Column(verbose_name="哨点 7 日目标", accessor="tl_sentinel_excess", orderable=False)
    followup_due = tables.Column(verbose_name="调查报告应于", accessor="tl_start", orderable=False)

    class Meta(RecordTable.Meta):
        model = AdrReport
        fields = (
            "report_number",
            "unit",
            "seriousness",
            "is_new",
            "source",
            "tl_start",
            "basis",
            "due_on",
            "reported_on",
        )
        sequence = (*fields, "late_days", "sentinel", "followup_due")

    def __init__(self, *args, followup_days: int = 15, **kwargs):
        super().__init__(*args, **kwargs)
        self.followup_days = followup_days

    def render_tl_start(self, value, record):
        return f"{value:%Y-%m-%d}（无首次获知日期，按报告日期计）" if record.tl_start_missing else f"{value:%Y-%m-%d}"

    def render_basis(self, value):
        return "获知当日" if value.days == 0 else f"{value.days} 日"

    def render_due_on(self, value, record):
        return f"{value + record.tl_limit:%Y-%m-%d}"

    def render_late_days(self, value):
        late = days_late(value)
        return f"超期 {late} 天" if late else "按时"

    def render_sentinel(self, value):
        if value is None:
            return "—"
        late = days_late(value)
        return f"超出 {late} 天" if late else "达标"

    def render_followup_due(self, value, record):
        if record.seriousness != "death":
            return "—"
        return f"{value + datetime.timedelta(days=self.followup_days):%Y-%m-%d}"


def _rate(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


class UnitTable(RecordTable):
    """Timeliness per reporting unit 报告单位及时性 (rows from ``deadlines.unit_statistics``)."""

    unit = tables.Column(verbose_name="报告单位")
    cases = tables.Column(verbose_name="报告数")
    on_time = tables.Column(verbose_name="按时报告数")
    on_time_rate = tables.Column(verbose_name="及时率")
    median_delay = tables.Column(verbose_name="报告用时中位数（天）")
    max_delay = tables.Column(verbose_name="最长用时（天）")
    late = tables.Column(verbose_name="超期数")
    missing = tables.Column(verbose_name="缺首次获知日期")
    sentinel_cases = tables.Column(verbose_name="哨点报告数")
    sentinel_rate = tables.Column(verbose_name="哨点 7 日达标率")

    class Meta(RecordTable.Meta):
        pass

    def render_on_time_rate(self, value):
        return _rate(value)

    def render_sentinel_rate(self, value):
        return _rate(value)

    def render_median_delay(self, value):
        return f"{value:g}"


class QueueTable(RecordTable):
    """The coding queue for export 编码队列导出."""

    key = tables.Column(verbose_name="规范化文本")
    variants = tables.Column(verbose_name="报告原文")
    count = tables.Column(verbose_name="未编码条数")
    reports = tables.Column(verbose_name="涉及报告")
    first_report = tables.Column(verbose_name="示例报告")
    last_report = tables.Column(verbose_name="示例报告（末）")

    class Meta(RecordTable.Meta):
        pass

    def render_variants(self, value):
        return "、".join(value)


class DuplicateTable(RecordTable):
    id = tables.Column(verbose_name="编号", linkify=True)
    report_a = tables.Column(verbose_name="报告甲", accessor="report_a__report_number")
    report_b = tables.Column(verbose_name="报告乙", accessor="report_b__report_number")
    drugs = tables.Column(verbose_name="相同药品", accessor="evidence__drugs", orderable=False)
    reactions = tables.Column(verbose_name="相同反应", accessor="evidence__reactions", orderable=False)
    score = tables.Column(attrs={"td": {"class": "num"}})

    class Meta(RecordTable.Meta):
        model = DuplicateCandidate
        fields = ("id", "report_a", "report_b", "drugs", "reactions", "score", "status", "found_at", "reviewer")

    def render_drugs(self, value):
        return "、".join(value)

    render_reactions = render_drugs

    def render_score(self, value):
        return f"{value:.2f}"
