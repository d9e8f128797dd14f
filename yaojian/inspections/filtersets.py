import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .choices import Conclusion, DefectGrade, InspectionKind
from .models import Defect, Inspection


class InspectionFilterSet(RegulatedFilterSet):
    search_fields = ("number", "enterprise__name", "inspectors")

    kind = django_filters.MultipleChoiceFilter(label="检查类型", choices=InspectionKind.choices)
    conclusion = django_filters.ChoiceFilter(label="检查结论", choices=Conclusion.choices)
    inspected_after = django_filters.DateFilter(label="检查日期起", field_name="inspected_on", lookup_expr="gte")
    inspected_before = django_filters.DateFilter(label="检查日期止", field_name="inspected_on", lookup_expr="lte")

    class Meta:
        model = Inspection
        fields = ["q", "division", "enterprise", "kind", "conclusion", "inspected_after", "inspected_before"]


class DefectFilterSet(RegulatedFilterSet):
    search_fields = ("code", "description", "inspection__enterprise__name")

    grade = django_filters.MultipleChoiceFilter(label="缺陷等级", choices=DefectGrade.choices)

    class Meta:
        model = Defect
        fields = ["q", "division", "inspection", "grade"]
