"""Query bars 查询条件 of case work."""

import django_filters
from django.db.models import Q

from yaojian.adr.models import ReactionTerm, ReportSource, Seriousness

from .models import CandidateStatus, DuplicateCandidate
from .normalise import normalise


class TermFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="术语/编码/同义词", method="filter_q")
    system_organ_class = django_filters.CharFilter(label="系统器官分类", lookup_expr="icontains")
    active = django_filters.BooleanFilter(label="启用")

    class Meta:
        model = ReactionTerm
        fields = ["q", "dictionary", "system_organ_class", "active"]

    def filter_q(self, queryset, name, value):
        return search_terms(queryset, value)


def _parts(key: str, longest: int = 30) -> list[str]:
    """Every substring of two characters or more (a reported phrase such as 皮肤瘙痒难忍 holds 瘙痒)."""
    key = key[:longest]
    return sorted({key[i:j] for i in range(len(key)) for j in range(i + 2, len(key) + 1)})


def search_terms(queryset, value: str):
    """Terms whose code, name or English name contains the text, one of whose synonyms contains it,
    or one of whose synonyms is contained in it."""
    value, key = value.strip(), normalise(value)
    if not value:
        return queryset
    condition = Q(code__icontains=value) | Q(name__icontains=value) | Q(name_en__icontains=value)
    if key:
        condition |= Q(synonyms__text__contains=key) | Q(synonyms__text__in=_parts(key))
    return queryset.filter(pk__in=queryset.filter(condition).values("pk")).order_by("code")


class DuplicateFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=CandidateStatus.choices, empty_label="全部")
    min_score = django_filters.NumberFilter(label="相似度 ≥", field_name="score", lookup_expr="gte")
    q = django_filters.CharFilter(label="报告编码", method="filter_q")

    class Meta:
        model = DuplicateCandidate
        fields = ["status", "min_score", "q"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(report_a__report_number__icontains=value) | Q(report_b__report_number__icontains=value)
        )


KINDS = (
    ("late", "超过法定时限"),
    ("sentinel_late", "哨点未达“即销即报”目标"),
    ("followup_near", "死亡病例调查临近到期"),
    ("followup_overdue", "死亡病例调查已逾期"),
    ("all", "全部报告"),
)


class ReportFilterSet(django_filters.FilterSet):
    """Reports by report date, seriousness, source and reporting unit."""

    reported_from = django_filters.DateFilter(label="报告日期起", field_name="reported_on", lookup_expr="gte")
    reported_to = django_filters.DateFilter(label="报告日期止", field_name="reported_on", lookup_expr="lte")
    seriousness = django_filters.ChoiceFilter(label="严重程度", choices=Seriousness.choices, empty_label="全部")
    source = django_filters.ChoiceFilter(label="报告来源", choices=ReportSource.choices, empty_label="全部")
    unit = django_filters.CharFilter(label="报告单位", method="filter_unit")

    def filter_unit(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reporter_unit__icontains=value) | Q(reporting_enterprise__name__icontains=value))


class DeadlineFilterSet(ReportFilterSet):
    """Adds the list's kind 类别 (超期 / 哨点 / 随访); the view applies it with the deadline expressions."""

    kind = django_filters.ChoiceFilter(label="类别", choices=KINDS, method="keep", empty_label=None)

    def keep(self, queryset, name, value):
        return queryset
