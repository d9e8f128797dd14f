"""Core pages 平台页面: sign-in, the home page, the audit trail 审计日志."""

import django_tables2 as tables
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from . import access
from .choices import Role
from .context_processors import MENU
from .forms import AuditRecordFilterSet
from .models import AuditRecord
from .views_generic import ObjectDetailView, ObjectListView, RecordTable, field_rows


@login_required
def home(request):
    """Home 首页: record counts per dimension within the user's scope, each linking to its list."""
    user = request.user
    cards = []
    for label, url_name, model_label in MENU:
        try:
            model = apps.get_model(model_label)
        except LookupError:
            continue
        if model is AuditRecord or not access.has_perm(user, model, access.VIEW):
            continue
        if not hasattr(model, "division_code") or model._meta.app_label == "risk":
            continue  # the risk pages have their own figures (驾驶舱)
        cards.append({"label": label, "url": reverse(url_name), "count": access.scoped(model.objects, user).count()})
    context = {
        "cards": cards,
        "chart": {"labels": [c["label"] for c in cards], "counts": [c["count"] for c in cards]},
        "is_partner": user.role == Role.PARTNER,
        "can_audit": access.has_perm(user, AuditRecord, access.VIEW),
    }
    return render(request, "core/home.html", context)


class AuditRecordTable(RecordTable):
    seq = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(RecordTable.Meta):
        model = AuditRecord
        fields = ("seq", "timestamp", "actor_name", "action", "object_type", "object_repr")


class AuditListView(ObjectListView):
    """Audit trail 审计日志, narrowed to the user's jurisdiction like every other list."""

    model = AuditRecord
    filterset_class = AuditRecordFilterSet
    table_class = AuditRecordTable

    def get_add_url(self):
        return None  # the trail is append-only


class AuditDetailView(ObjectDetailView):
    """One audit record with its before/after difference 修改前后对比."""

    model = AuditRecord
    template_name = "core/audit_detail.html"
    fields = ("seq", "timestamp", "actor_name", "request_id", "action", "object_type", "object_id", "object_repr")

    def get_object(self, action=None):
        return access.get_scoped_or_404(
            AuditRecord.objects.all(), self.request.user, access.VIEW, seq=self.kwargs["seq"]
        )

    def get(self, request, *args, **kwargs):
        record = self.get_object()
        context = {
            "object": record,
            "rows": self.rows(record),
            "changes": record.changed_fields(),
            "list_url": reverse("audit-list"),
        }
        return render(request, self.template_name, context)

    def rows(self, record):
        return field_rows(record, self.fields)
