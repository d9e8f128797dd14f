import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .models import CreditGrade, CreditRating


class CreditRatingFilterSet(RegulatedFilterSet):
    search_fields = ("enterprise__name", "basis")

    grade = django_filters.MultipleChoiceFilter(label="信用等级", choices=CreditGrade.choices)
    rated_after = django_filters.DateFilter(label="评定日期起", field_name="rated_on", lookup_expr="gte")

    class Meta:
        model = CreditRating
        fields = ["q", "division", "enterprise", "grade", "rated_after"]
