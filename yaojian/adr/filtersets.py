import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .models import AdrReport, Causality, ReportSource, ReportType, Seriousness


class AdrReportFilterSet(RegulatedFilterSet):
    search_fields = ("report_number", "reaction", "product__name", "enterprise__name", "reporter_unit")

    seriousness = django_filters.MultipleChoiceFilter(label="严重程度", choices=Seriousness.choices)
    source = django_filters.ChoiceFilter(label="报告来源", choices=ReportSource.choices)
    report_type = django_filters.ChoiceFilter(label="报告类型", choices=ReportType.choices)
    causality = django_filters.ChoiceFilter(label="关联性评价", choices=Causality.choices)
    reported_after = django_filters.DateFilter(label="报告日期起", field_name="reported_on", lookup_expr="gte")
    reported_before = django_filters.DateFilter(label="报告日期止", field_name="reported_on", lookup_expr="lte")

    class Meta:
        model = AdrReport
        fields = [
            "q",
            "division",
            "enterprise",
            "product",
            "batch",
            "seriousness",
            "source",
            "report_type",
            "causality",
            "is_new",
            "reported_after",
            "reported_before",
        ]
