"""Pages 页面 of the smart-pharmacy warning: the district overview, series charts, the alert response list,
and the purchase records (masked list and detail, the audited clear-text look-up, the pharmacy's own entry and
upload)."""

import datetime
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views import View

from yaojian.core import access
from yaojian.core.models import Division
from yaojian.core.views_generic import ObjectListView, ScopedMixin, field_rows, model_meta

from . import detection, forms, services
from .filtersets import AlertFilterSet, PurchaseRecordFilterSet
from .models import (
    DETECTORS,
    Alert,
    AlertLevel,
    AlertStatus,
    DailyCount,
    DrugClass,
    PurchaseRecord,
    Source,
    WarningConfig,
)
from .tables import AlertTable, PurchaseRecordTable, division_names
from .uploads import TEMPLATE_HEADER, read_upload


def _day(request, counts) -> datetime.date:
    """The day asked for (``?day=``), else the latest day with counts, else today."""
    asked = parse_date(request.GET.get("day") or "")
    return asked or counts.aggregate(last=Max("day"))["last"] or timezone.localdate()


def _alert_districts(alert: Alert) -> set[str]:
    """Districts an alert covers: its district, or the districts that triggered a city-level alert."""
    if alert.level == AlertLevel.PHARMACIES:
        return {alert.division_code}
    return {str(point["key"]) for point in alert.points}


class OverviewView(ScopedMixin, View):
    """智慧药店预警总览: a treemap of the districts (size = the day's count, red = an alert) and the day's alerts."""

    model = Alert
    template_name = "pharmacy/overview.html"

    def get(self, request):
        config = WarningConfig.current()
        counts = access.scoped(DailyCount.objects.all(), request.user)
        day = _day(request, counts)
        alerts = list(
            access.scoped(Alert.objects.select_related("drug_class", "assignee"), request.user).filter(
                first_day__lte=day, last_day__gte=day
            )
        )
        alerted = {(a.drug_class_id, d) for a in alerts for d in _alert_districts(a)}
        cells = (
            counts.filter(day=day)
            .values("division_code", "drug_class_id", "drug_class__name", "drug_class__code")
            .annotate(total=Sum(config.metric))
            .order_by("division_code", "drug_class__order")
        )
        names = division_names([c["division_code"] for c in cells] + [a.division_code for a in alerts])
        tree: dict[str, dict] = {}
        for cell in cells:
            code = cell["division_code"]
            node = tree.setdefault(code, {"name": names.get(code, code), "code": code, "value": 0, "children": []})
            hot = (cell["drug_class_id"], code) in alerted
            node["value"] += cell["total"]
            node["alert"] = node.get("alert", False) or hot
            child = {"name": cell["drug_class__name"], "code": cell["drug_class__code"], "value": cell["total"]}
            node["children"].append(child | {"alert": hot})
        context = {
            "day": day,
            "alerts": [(a, names.get(a.division_code, a.division_code)) for a in alerts],
            "tree_json": json.dumps(list(tree.values()), ensure_ascii=False),
            "districts": list(tree.values()),
            "metric": config.get_metric_display(),
            "open_count": access.scoped(Alert.objects.all(), request.user).exclude(status=AlertStatus.CLOSED).count(),
            "series_url": reverse("pharmacy:series"),
        }
        return render(request, self.template_name, context)


class SeriesView(ScopedMixin, View):
    """时间序列: one class in a district, city or pharmacy with the detector's upper bound and its alarms."""

    model = Alert
    template_name = "pharmacy/series.html"

    def get(self, request):
        user = request.user
        classes = list(DrugClass.objects.filter(is_active=True))
        counts = access.scoped(DailyCount.objects.all(), user)
        day = _day(request, counts)
        drug_class = next((c for c in classes if c.code == request.GET.get("class")), classes[0] if classes else None)
        detector = request.GET.get("detector") if request.GET.get("detector") in DETECTORS else "c3"
        code = request.GET.get("division", "")
        division = Division.objects.filter(code=code).first() if code else None
        if division is not None and not access.division_in_scope(user, division.code):
            division = None
        prefix = division.prefix if division else ""
        selected = counts.filter(drug_class=drug_class, division_code__startswith=prefix)
        pharmacy_id = request.GET.get("pharmacy", "")
        if pharmacy_id.isdigit():
            selected = selected.filter(pharmacy_id=int(pharmacy_id))
        chart = detection.series_chart(selected, day, detector) if drug_class else None
        if chart:
            start = parse_date(chart["days"][0])
            marks = access.scoped(Alert.objects.all(), user).filter(
                drug_class=drug_class, division_code__startswith=prefix, last_day__gte=start, first_day__lte=day
            )
            chart["alert_days"] = sorted({d.isoformat() for a in marks for d in _days(a.first_day, a.last_day)})
        context = {
            "day": day,
            "classes": classes,
            "drug_class": drug_class,
            "detectors": DETECTORS,
            "detector": detector,
            "division_options": _division_options(user),
            "division": division,
            "pharmacy": pharmacy_id,
            "chart_json": json.dumps(chart, ensure_ascii=False) if chart else "",
            "chart": chart,
        }
        return render(request, self.template_name, context)


def _days(first: datetime.date, last: datetime.date):
    return (first + datetime.timedelta(days=i) for i in range((last - first).days + 1))


def _division_options(user) -> list[tuple[str, str]]:
    """Cities and districts of the jurisdiction that hold pharmacy counts."""
    codes = set(access.scoped(DailyCount.objects.all(), user).values_list("division_code", flat=True).distinct())
    codes |= {c[:4] + "00" for c in codes}
    indent = {"city": "", "district": "\u3000"}
    return [
        (d.code, indent.get(d.level, "") + d.name) for d in Division.objects.filter(code__in=codes).order_by("code")
    ]


class AlertListView(ObjectListView):
    """预警处置清单: alerts of the jurisdiction, newest first."""

    model = Alert
    filterset_class = AlertFilterSet
    table_class = AlertTable
    select_related = ("drug_class", "assignee")
    template_name = "pharmacy/alert_list.html"

    def get_add_url(self):
        return None  # alerts come from the detection, never by hand


class AlertDetailView(ScopedMixin, View):
    """One alert: its points, the area's series with the bound, and the response 处置 (status, assignee, notes)."""

    model = Alert
    template_name = "pharmacy/alert_detail.html"

    def context(self, alert, form):
        prefix = alert.division_code if alert.level == AlertLevel.PHARMACIES else alert.division_code[:4]
        counts = access.scoped(DailyCount.objects.all(), self.request.user).filter(
            drug_class=alert.drug_class, division_code__startswith=prefix
        )
        detector = alert.detectors[0] if alert.detectors else "c3"
        chart = detection.series_chart(counts, alert.last_day, detector, days=42)
        chart["alert_days"] = [d.isoformat() for d in _days(alert.first_day, alert.last_day)]
        return {
            "alert": alert,
            "area": division_names([alert.division_code]).get(alert.division_code, alert.division_code),
            "detectors": DETECTORS,
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "form": form,
            "series_url": reverse("pharmacy:series")
            + f"?class={alert.drug_class.code}&division={alert.division_code}&detector={detector}"
            + f"&day={alert.last_day.isoformat()}",
        }

    def get(self, request, pk):
        alert = self.get_object()
        form = forms.ResponseForm(alert=alert, user=request.user) if self.can(access.CHANGE) else None
        return render(request, self.template_name, self.context(alert, form))

    def post(self, request, pk):
        alert = self.get_object()
        if not self.can(access.CHANGE):
            raise PermissionDenied("无此操作权限")
        form = forms.ResponseForm(request.POST, alert=alert, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            services.respond(request.user, alert, status=data["status"], assignee=data["assignee"], note=data["note"])
            messages.success(request, "已记录处置")
            return redirect(alert.get_absolute_url())
        return render(request, self.template_name, self.context(alert, form), status=400)


class ConfigView(ScopedMixin, View):
    """预警参数: regulators read the settings in force and the watched classes; the administrator publishes."""

    model = WarningConfig
    template_name = "pharmacy/config.html"

    def page(self, form, status=200):
        context = {
            "config": WarningConfig.current(),
            "classes": DrugClass.objects.all(),
            "form": form,
            "history": WarningConfig.objects.select_related("created_by")[:10],
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        current = WarningConfig.current()
        return self.page(forms.ConfigForm(instance=current) if self.can(access.ADD) else None)

    def post(self, request):
        if not self.can(access.ADD):
            raise PermissionDenied("无权修改预警参数")
        form = forms.ConfigForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        config = services.publish_config(request.user, form.cleaned_data)
        messages.success(request, f"已发布{config}")
        return redirect("pharmacy:config")


# --- purchase records 实名购药记录 ---------------------------------------------------------------


class RecordListView(ObjectListView):
    """Masked list 脱敏列表 with export (masked as well): the pharmacy sees its own, regulators their area."""

    model = PurchaseRecord
    filterset_class = PurchaseRecordFilterSet
    table_class = PurchaseRecordTable
    select_related = ("pharmacy", "drug_class")
    template_name = "pharmacy/record_list.html"
    add_url_name = "pharmacy:record-add"


class RecordDetailView(ScopedMixin, View):
    model = PurchaseRecord
    template_name = "pharmacy/record_detail.html"
    fields = (
        "pharmacy",
        "receipt_number",
        "line",
        "sold_at",
        "drug_name",
        "drug_class",
        "quantity",
        ("buyer_name_masked", "购药人姓名"),
        ("buyer_id_number_masked", "身份证号"),
        "source",
        "created_at",
        "updated_at",
    )

    def get(self, request, pk):
        record = access.get_scoped_or_404(
            PurchaseRecord.objects.select_related("pharmacy", "drug_class"), request.user, access.VIEW, pk=pk
        )
        context = {
            "object": record,
            "meta": model_meta(PurchaseRecord),
            "rows": field_rows(record, self.fields),
            "reveal_form": forms.RevealForm() if services.can_reveal(request.user) else None,
        }
        return render(request, self.template_name, context)


class RecordRevealView(ScopedMixin, View):
    """查看明文: an authorised regulator states a reason and sees the buyer once; the look-up is audited."""

    model = PurchaseRecord
    action = services.REVEAL
    template_name = "pharmacy/record_reveal.html"

    def render_page(self, record, form, clear=None, status=200):
        context = {"object": record, "meta": model_meta(PurchaseRecord), "form": form, "clear": clear}
        response = render(self.request, self.template_name, context, status=status)
        response["Cache-Control"] = "no-store"  # the clear values must not stay in a cache
        return response

    def get(self, request, pk):
        return self.render_page(self.get_object(), forms.RevealForm())

    def post(self, request, pk):
        record = self.get_object()
        form = forms.RevealForm(request.POST)
        if form.is_valid():
            try:
                clear = services.reveal(request.user, record, form.cleaned_data["reason"])
            except ValidationError as exc:
                form.add_error("reason", exc.messages)
            else:
                return self.render_page(record, form, clear)
        return self.render_page(record, form, status=400)


class _PharmacySubmitView(ScopedMixin, View):
    """Base of the pharmacy's own entry pages: only a retail pharmacy's account, only for itself."""

    model = PurchaseRecord
    action = access.ADD

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and access.has_perm(request.user, PurchaseRecord, access.ADD):
            self.pharmacy = services.pharmacy_of(request.user)
        return super().dispatch(request, *args, **kwargs)


class RecordAddView(_PharmacySubmitView):
    template_name = "pharmacy/record_form.html"

    def get(self, request):
        initial = {"sold_at": timezone.localtime().replace(second=0, microsecond=0)}
        return render(
            request, self.template_name, {"form": forms.PurchaseForm(initial=initial), "pharmacy": self.pharmacy}
        )

    def post(self, request):
        form = forms.PurchaseForm(request.POST)
        if form.is_valid():
            try:
                services.submit_records(request.user, self.pharmacy, [(1, form.as_row())], source=Source.FORM)
            except services.SubmissionRejected as exc:
                for error in exc.errors:
                    form.add_error(None, f"{error.column}：{error.reason}")
            else:
                messages.success(request, "已保存实名购药记录")
                return redirect("pharmacy:record-list")
        return render(request, self.template_name, {"form": form, "pharmacy": self.pharmacy}, status=400)


class RecordUploadView(_PharmacySubmitView):
    """文件导入: all or nothing; errors name the row, the column and the reason; re-uploading is harmless."""

    template_name = "pharmacy/record_upload.html"

    def page(self, form, errors=(), status=200):
        context = {"form": form, "pharmacy": self.pharmacy, "errors": errors, "header": "，".join(TEMPLATE_HEADER)}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        return self.page(forms.UploadForm())

    def post(self, request):
        form = forms.UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(form, status=400)
        upload = form.cleaned_data["file"]
        try:
            rows = read_upload(upload)
            result = services.submit_records(
                request.user, self.pharmacy, rows, source=Source.UPLOAD, file_name=upload.name
            )
        except services.SubmissionRejected as exc:
            return self.page(form, exc.errors, status=400)
        messages.success(
            request, f"导入完成：新增 {result.created} 条，更新 {result.updated} 条，未变 {result.unchanged} 条"
        )
        return redirect("pharmacy:record-list")
