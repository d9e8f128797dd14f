import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .models import Channel, Complaint, ComplaintStatus


class ComplaintFilterSet(RegulatedFilterSet):
    # Encrypted complainant fields are deliberately not searchable.
    search_fields = ("number", "subject", "enterprise__name")

    channel = django_filters.ChoiceFilter(label="来源渠道", choices=Channel.choices)
    status = django_filters.ChoiceFilter(label="办理状态", choices=ComplaintStatus.choices)
    received_after = django_filters.DateFilter(label="受理日期起", field_name="received_on", lookup_expr="gte")
    received_before = django_filters.DateFilter(label="受理日期止", field_name="received_on", lookup_expr="lte")

    class Meta:
        model = Complaint
        fields = [
            "q",
            "division",
            "enterprise",
            "product",
            "channel",
            "status",
            "substantiated",
            "received_after",
            "received_before",
        ]
