import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from yaojian.core.views_generic import RecordTable

from .models import AssistanceCase, ProductRiskAssessment, Push, RiskAssessment


def enterprise_link(record):
    return record.enterprise.get_absolute_url()


class RiskAssessmentTable(RecordTable):
    """分级监管: each enterprise's current level and the inspection that is due next."""

    enterprise = tables.Column(verbose_name="企业", linkify=enterprise_link)
    enterprise__type = tables.Column(verbose_name="企业类型")
    level = tables.Column()
    score = tables.Column()
    next_inspection_due = tables.Column()

    class Meta(RecordTable.Meta):
        model = RiskAssessment
        fields = (
            "enterprise",
            "enterprise__type",
            "division_code",
            "level",
            "score",
            "intrinsic_score",
            "compliance_score",
            "inspection_interval_months",
            "last_inspected_on",
            "next_inspection_due",
            "as_of",
        )
        order_by = ("next_inspection_due",)

    def render_score(self, value):
        return f"{value:.2f}"

    def render_intrinsic_score(self, value):
        return f"{value:.2f}"

    def render_compliance_score(self, value):
        return f"{value:.2f}"

    def render_level(self, record):
        return format_html('<span class="tag level-{}">{}</span>', record.level, record.get_level_display())

    def render_next_inspection_due(self, value):
        if value < timezone.localdate():
            return format_html('<span class="overdue">{}（逾期）</span>', value.isoformat())
        return value.isoformat()


class ProductRiskTable(RecordTable):
    """产品风险: each product's current risk, linked to its product page 一品一链."""

    product = tables.Column(verbose_name="产品", linkify=lambda record: record.product.get_absolute_url())
    product__category = tables.Column(verbose_name="产品类别")
    holder = tables.Column(verbose_name="持有人/注册人", accessor="product__holder")
    level = tables.Column()
    score = tables.Column()
    top_factor = tables.Column(verbose_name="首要因素", empty_values=(), orderable=False)

    class Meta(RecordTable.Meta):
        model = ProductRiskAssessment
        fields = (
            "product",
            "product__category",
            "holder",
            "division_code",
            "level",
            "score",
            "intrinsic_score",
            "compliance_score",
            "top_factor",
            "as_of",
        )
        order_by = ("-score",)

    def render_top_factor(self, record):
        return record.factors[0]["label"] if record.factors else "—"

    render_score = RiskAssessmentTable.render_score
    render_intrinsic_score = RiskAssessmentTable.render_intrinsic_score
    render_compliance_score = RiskAssessmentTable.render_compliance_score
    render_level = RiskAssessmentTable.render_level


class AssistanceCaseTable(RecordTable):
    enterprise = tables.Column(verbose_name="企业", linkify=enterprise_link)
    due_on = tables.Column(linkify=lambda record: record.get_absolute_url())
    remaining = tables.Column(verbose_name="剩余天数", empty_values=(), orderable=False)

    class Meta(RecordTable.Meta):
        model = AssistanceCase
        fields = ("enterprise", "opened_on", "deadline_days", "due_on", "remaining", "status", "escalation_level")

    def render_remaining(self, record):
        if record.status != "open":
            return "—"
        days = (record.due_on - timezone.localdate()).days
        if days < 0:
            return format_html('<span class="overdue">逾期 {} 天</span>', -days)
        return f"{days} 天"


class PushTable(RecordTable):
    enterprise = tables.Column(verbose_name="企业")
    credit_code = tables.Column(verbose_name="统一社会信用代码", accessor="enterprise__credit_code")
    acknowledged_at = tables.Column()

    class Meta(RecordTable.Meta):
        model = Push
        fields = ("department", "enterprise", "credit_code", "tag", "pushed_on", "revoked_on", "acknowledged_at")
