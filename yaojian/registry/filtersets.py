import django_filters
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from yaojian.core.filtersets import RegulatedFilterSet
from yaojian.credit.models import CreditGrade, CreditRating

from .choices import EnterpriseStatus, EnterpriseType, LicenceStatus, LicenceType, ProductCategory
from .models import Batch, Enterprise, Licence, Product, ProductPackage, Registration

LICENCE_STATE_CHOICES = [
    ("valid", "持有有效许可证"),
    ("expiring", "90天内到期"),
    ("expired", "许可证已过期"),
    ("none", "无许可证"),
]


def latest_credit_grade():
    """Subquery for an enterprise's most recent credit grade."""
    return Subquery(CreditRating.objects.filter(enterprise=OuterRef("pk")).order_by("-rated_on").values("grade")[:1])


class EnterpriseFilterSet(RegulatedFilterSet):
    search_fields = ("name", "credit_code", "address", "legal_representative")

    type = django_filters.MultipleChoiceFilter(label="企业类型", choices=EnterpriseType.choices)
    status = django_filters.ChoiceFilter(label="经营状态", choices=EnterpriseStatus.choices)
    credit_grade = django_filters.MultipleChoiceFilter(
        label="信用等级", choices=CreditGrade.choices, method="filter_credit"
    )
    licence_state = django_filters.ChoiceFilter(
        label="许可证状态", choices=LICENCE_STATE_CHOICES, method="filter_licence"
    )

    class Meta:
        model = Enterprise
        fields = ["q", "division", "type", "status", "credit_grade", "licence_state"]

    def filter_credit(self, queryset, name, value):
        return queryset.annotate(_grade=latest_credit_grade()).filter(_grade__in=value) if value else queryset

    def filter_licence(self, queryset, name, value):
        today = timezone.localdate()
        valid = Licence.objects.filter(status=LicenceStatus.VALID, valid_until__gte=today)
        if value == "valid":
            return queryset.filter(pk__in=valid.values("enterprise_id"))
        if value == "expiring":
            soon = valid.filter(valid_until__lte=today + timezone.timedelta(days=90))
            return queryset.filter(pk__in=soon.values("enterprise_id"))
        if value == "expired":
            return queryset.filter(pk__in=Licence.objects.values("enterprise_id")).exclude(
                pk__in=valid.values("enterprise_id")
            )
        if value == "none":
            return queryset.exclude(pk__in=Licence.objects.values("enterprise_id"))
        return queryset


class LicenceFilterSet(RegulatedFilterSet):
    search_fields = ("number", "enterprise__name", "scope")

    type = django_filters.MultipleChoiceFilter(label="许可证类型", choices=LicenceType.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=LicenceStatus.choices)
    valid_until_before = django_filters.DateFilter(
        label="有效期至（早于）", field_name="valid_until", lookup_expr="lte"
    )

    class Meta:
        model = Licence
        fields = ["q", "division", "enterprise", "type", "status", "valid_until_before"]


class ProductFilterSet(RegulatedFilterSet):
    search_fields = ("name", "approval_number", "holder__name")

    category = django_filters.ChoiceFilter(label="产品类别", choices=ProductCategory.choices)

    class Meta:
        model = Product
        fields = [
            "q",
            "division",
            "category",
            "holder",
            "manufacturer",
            "is_vaccine",
            "is_injection",
            "is_cold_chain",
            "is_paediatric",
            "is_narcotic_psychotropic",
        ]


class RegistrationFilterSet(RegulatedFilterSet):
    search_fields = ("number", "product__name")

    class Meta:
        model = Registration
        fields = ["q", "division", "product", "kind", "status"]


class BatchFilterSet(RegulatedFilterSet):
    search_fields = ("batch_number", "product__name")

    class Meta:
        model = Batch
        fields = ["q", "division", "product"]


class ProductPackageFilterSet(RegulatedFilterSet):
    search_fields = ("identifier", "product__name", "product__approval_number")

    class Meta:
        model = ProductPackage
        fields = ["q", "division", "product", "level", "is_active"]
