"""Generic record views 通用视图 (NetBox habit): each model's pages are a few declarative lines.

Every view asks ``core.access`` twice: ``has_perm`` for the action (no permission → 403) and
``scoped``/``get_scoped_or_404`` for the rows (outside the jurisdiction → 404). Writes go through
``core.services`` so that each one lands in the audit trail.
"""

import csv
import datetime
import io
from urllib.parse import quote

import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from django_tables2.columns import library
from openpyxl import Workbook

from . import access, services

PER_PAGE_CHOICES = (20, 50, 100)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@library.register
class IsoDateColumn(tables.DateColumn):
    """Dates as 2025-06-01 whatever the browser's language (regulators' documents use this form)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "Y-m-d")
        super().__init__(*args, **kwargs)

    @classmethod
    def from_field(cls, field, **kwargs):
        if type(field).__name__ == "DateField":
            return cls(**kwargs)


@library.register
class IsoDateTimeColumn(tables.DateTimeColumn):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "Y-m-d H:i")
        super().__init__(*args, **kwargs)

    @classmethod
    def from_field(cls, field, **kwargs):
        if type(field).__name__ == "DateTimeField":
            return cls(**kwargs)


class RecordTable(tables.Table):
    """Base of every list table 列表: ISO dates (the column types above) and the empty state."""

    class Meta:
        empty_text = "暂无数据"


# Edit/delete links of a child record (registration, batch, defect) on its parent's page;
# views exclude the column for roles that may not change them.
ROW_ACTIONS = tables.TemplateColumn(template_name="generic/row_actions.html", verbose_name="操作", orderable=False)


def neutralise(value) -> str:
    """Export cell text that a spreadsheet will not run as a formula (CSV/公式注入防护)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def per_page(request) -> int:
    try:
        value = int(request.GET.get("per_page", PER_PAGE_CHOICES[0]))
    except ValueError:
        return PER_PAGE_CHOICES[0]
    return value if value in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def paginate(table, request):
    """Page a django-tables2 table with the 20/50/100 page sizes; out-of-range pages show the last."""
    tables.RequestConfig(request, paginate={"per_page": per_page(request), "orphans": 0}).configure(table)
    return table


def model_meta(model) -> dict:
    opts = model._meta
    return {"verbose_name": opts.verbose_name, "model_name": opts.model_name, "app_label": opts.app_label}


class ScopedMixin(LoginRequiredMixin):
    """Login, then the role check for ``action`` on ``model``."""

    model = None
    action = access.VIEW

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not access.has_perm(request.user, self.model, self.action):
            raise PermissionDenied("无此操作权限")
        return super().dispatch(request, *args, **kwargs)

    def base_queryset(self):
        return self.model._default_manager.all()

    def get_object(self, action=None):
        return access.get_scoped_or_404(
            self.base_queryset(), self.request.user, action or self.action, pk=self.kwargs["pk"]
        )

    def url(self, suffix, *args):
        meta = self.model._meta
        return reverse(f"{meta.app_label}:{meta.model_name}-{suffix}", args=args)

    def can(self, action) -> bool:
        return access.has_perm(self.request.user, self.model, action)


class ParameterVersionView(ScopedMixin, View):
    """A versioned parameter set 参数版本 (``core.models.VersionedParameters``): the active version and the latest
    versions for readers, the form of a new version for those with ``change_action``. A subclass names the model,
    the form (a ``core.forms.ParametersForm``), the template and how to read the active version and publish one."""

    form_class = None
    template_name = ""
    change_action = access.CHANGE
    denied = "无此操作权限"
    published = "已启用 v{version}"
    success_url = ""

    def active(self):
        raise NotImplementedError

    def values(self, config) -> dict:
        return config.parameters

    def publish(self, values: dict, *, actor, note: str):
        raise NotImplementedError

    def get(self, request):
        return self.render_page(self.form_class(initial=self.values(self.active())))

    def post(self, request):
        if not self.can(self.change_action):
            raise PermissionDenied(self.denied)
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.render_page(form, status=400)
        config = self.publish(form.values(), actor=request.user, note=form.cleaned_data["note"])
        messages.success(request, self.published.format(version=config.version))
        return redirect(self.success_url)

    def render_page(self, form, status=200):
        config = self.active()
        values = self.values(config)
        context = {
            "config": config,
            "parameters": [(label, values[name]) for name, label, *_ in self.form_class.parameter_fields],
            "versions": self.model.objects.select_related("created_by")[:20],
            "form": form,
            "can_change": self.can(self.change_action),
        }
        return render(self.request, self.template_name, context, status=status)


class ObjectListView(ScopedMixin, View):
    """List 列表: query bar (FilterSet), table, paging, toolbar 新增/导出, export of the filtered rows."""

    filterset_class = None
    table_class = None
    template_name = "generic/object_list.html"
    select_related: tuple[str, ...] = ()
    add_url_name: str | None = None  # defaults to "<app>:<model>-add" when the role may add

    def get_queryset(self):
        qs = access.scoped(self.base_queryset(), self.request.user, access.VIEW)
        return qs.select_related(*self.select_related) if self.select_related else qs

    def get(self, request, *args, **kwargs):
        filterset = self.filterset_class(request.GET or None, queryset=self.get_queryset(), request=request)
        fields = filterset.form.fields
        if "division" in fields:
            fields["division"].label = "所在辖区"
            fields["division"].widget = forms.Select(choices=division_choices(request.user))
        label_blank_choice(fields.values(), "全部")
        for field in fields.values():
            if isinstance(field, forms.ModelChoiceField):
                # A record picker would list every enterprise/product in the scope; the keyword box covers
                # that, and ?enterprise=<pk> links (from the dossier) still filter, kept in a hidden input.
                field.queryset = narrow_choices(field.queryset, request.user)
                field.widget = forms.HiddenInput()
        if not filterset.is_bound:
            queryset = filterset.queryset
        else:  # an invalid condition (say, a record out of scope) matches nothing rather than everything
            queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        table = self.table_class(queryset, request=request)
        export = request.GET.get("export")
        if export in ("xlsx", "csv"):
            return export_table(table, self.model._meta.verbose_name, export)
        paginate(table, request)
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "meta": model_meta(self.model),
            "filterset": filterset,
            "table": table,
            "query": query.urlencode(),
            "per_page_choices": PER_PAGE_CHOICES,
            "add_url": self.get_add_url(),
        }
        return render(request, self.template_name, context)

    def get_add_url(self):
        if not self.can(access.ADD):
            return None
        if self.add_url_name:
            return reverse(self.add_url_name)
        return self.url("add")


def label_blank_choice(fields, label: str) -> None:
    """Name the blank option of single-choice boxes (全部 in query bars, 请选择 in forms) instead of dashes."""
    for field in fields:
        if isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
            continue
        if isinstance(field, forms.ModelChoiceField):
            field.empty_label = label  # read lazily when the queryset's options are listed
        elif isinstance(field, forms.ChoiceField):
            field.widget.choices = [(v, label if v == "" else text) for v, text in field.widget.choices]


def division_choices(user) -> list[tuple[str, str]]:
    """Divisions 辖区 for the query bar: those holding enterprises in the user's scope, with their cities
    and provinces, so that a province regulator can pick a city and see all its districts."""
    from yaojian.registry.models import Enterprise

    from .models import Division

    codes = set()
    for code in access.scoped(Enterprise.objects.all(), user).values_list("division_id", flat=True).distinct():
        codes.update({code, code[:4] + "00", code[:2] + "0000"})
    prefix = access.jurisdiction_prefix(user) or ""
    divisions = Division.objects.filter(code__in=codes, code__startswith=prefix).order_by("code")
    indent = {"province": "", "city": "\u3000", "district": "\u3000\u3000"}
    return [("", "全部")] + [(d.code, indent.get(d.level, "") + d.name) for d in divisions]


def export_rows(table):
    """Header and rows of the whole filtered table, plain text, formula-neutralised."""
    for row in table.as_values(exclude_columns=("actions",)):
        yield [neutralise(cell) for cell in row]


def export_table(table, title, fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    filename = f"{title}-{stamp}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # BOM so that Excel opens the UTF-8 Chinese text correctly
        csv.writer(buffer).writerows(export_rows(table))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(str(title)[:31])
        for row in export_rows(table):
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def field_rows(obj, names) -> list[dict]:
    """Label/value/link rows for a detail page; ``names`` holds field names or (attribute, label) pairs."""
    rows = []
    for item in names:
        name, label = item if isinstance(item, tuple) else (item, None)
        url = None
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:  # a property such as a masked value
            value = getattr(obj, name)
        else:
            label = label or field.verbose_name
            if field.choices:
                value = getattr(obj, f"get_{name}_display")()
            else:
                value = getattr(obj, name)
                if field.is_relation and value is not None and hasattr(value, "get_absolute_url"):
                    url = value.get_absolute_url()
            if isinstance(value, bool):
                value = "是" if value else "否"
            elif isinstance(value, datetime.datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            elif isinstance(value, datetime.date):
                value = value.isoformat()
        rows.append({"label": label, "value": "" if value is None else value, "url": url})
    return rows


class ObjectDetailView(ScopedMixin, View):
    """Detail 详情: the scoped object's fields, with edit/delete buttons where the role may."""

    template_name = "generic/object_detail.html"
    fields: tuple = ()
    select_related: tuple[str, ...] = ()

    def base_queryset(self):
        qs = super().base_queryset()
        return qs.select_related(*self.select_related) if self.select_related else qs

    def get_context(self, obj) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        context = {
            "object": obj,
            "meta": model_meta(self.model),
            "rows": field_rows(obj, self.fields),
            "list_url": self.url("list"),
            "edit_url": self.url("edit", obj.pk) if self.can(access.CHANGE) else None,
            "delete_url": self.url("delete", obj.pk) if self.can(access.DELETE) else None,
            **self.get_context(obj),
        }
        return render(request, self.template_name, context)


class ScopedModelForm(forms.ModelForm):
    """ModelForm whose foreign-key choices are narrowed to what the user may see (辖区内可选)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        label_blank_choice(self.fields.values(), "请选择")
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = narrow_choices(field.queryset, user)
            if isinstance(field.widget, forms.DateInput):
                field.widget.input_type = "date"
                field.widget.format = "%Y-%m-%d"


def narrow_choices(queryset, user):
    from .models import Division

    if queryset.model is Division:
        prefix = access.jurisdiction_prefix(user)
        return queryset if prefix is None else queryset.filter(code__startswith=prefix)
    if hasattr(queryset.model, "division_code"):
        return access.scoped(queryset, user, access.VIEW)
    return queryset


class ObjectEditView(ScopedMixin, View):
    """Create 新增 (no ``pk``) or edit 编辑 through ``services.save_form_instance``.

    ``parent_field`` names the foreign key of a child record (registration, batch, defect) that is
    created from its parent's page: the parent comes from ``parent_pk`` in the URL, scoped.
    """

    form_class = None
    template_name = "generic/object_edit.html"
    parent_field: str | None = None

    @property
    def action(self):
        return access.CHANGE if "pk" in self.kwargs else access.ADD

    def get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object()
        instance = self.model()
        if self.parent_field:
            parent_model = self.model._meta.get_field(self.parent_field).related_model
            parent = access.get_scoped_or_404(
                parent_model._default_manager.all(), self.request.user, access.VIEW, pk=self.kwargs["parent_pk"]
            )
            setattr(instance, self.parent_field, parent)
        return instance

    def get_form(self, instance):
        data = self.request.POST if self.request.method == "POST" else None
        form = self.form_class(data, instance=instance, user=self.request.user)
        if self.parent_field:
            form.fields.pop(self.parent_field, None)
        return form

    def render_form(self, form, instance, status=200):
        context = {
            "form": form,
            "object": instance if instance.pk else None,
            "meta": model_meta(self.model),
            "cancel_url": instance.get_absolute_url() if instance.pk or self.parent_field else self.url("list"),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        return self.render_form(self.get_form(instance), instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = self.get_form(instance)
        if form.is_valid():
            try:
                obj = services.save_form_instance(form, actor=request.user)
            except ValidationError as exc:  # model rules the form did not see (derived fields)
                form.add_error(None, exc.messages)
            else:
                messages.success(request, f"已保存：{obj}")
                return redirect(obj.get_absolute_url())
        return self.render_form(form, instance, status=400)


class ObjectDeleteView(ScopedMixin, View):
    """Delete 删除 after confirmation, through ``services.delete_record``."""

    action = access.DELETE
    template_name = "generic/object_delete.html"
    returns_to_parent = False  # child records (registration, batch, defect) go back to the parent page

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return render(request, self.template_name, {"object": obj, "meta": model_meta(self.model)})

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        after = obj.get_absolute_url() if self.returns_to_parent else self.url("list")
        try:
            services.delete_record(obj, actor=request.user)
        except ProtectedError:
            messages.error(request, f"“{obj}”仍有关联记录，不能删除")
            return redirect(obj.get_absolute_url())
        messages.success(request, f"已删除：{obj}")
        return redirect(after)


def record_urls(model, *, list_view=None, detail_view=None, edit_view=None, delete_view=None, prefix=""):
    """URL patterns with the contract names ``<model>-list|detail|add|edit|delete``."""
    name = model._meta.model_name
    patterns = []
    if list_view:
        patterns.append(path(prefix, list_view.as_view(), name=f"{name}-list"))
    if edit_view:
        patterns.append(path(f"{prefix}add/", edit_view.as_view(), name=f"{name}-add"))
        patterns.append(path(f"{prefix}<int:pk>/edit/", edit_view.as_view(), name=f"{name}-edit"))
    if detail_view:
        patterns.append(path(f"{prefix}<int:pk>/", detail_view.as_view(), name=f"{name}-detail"))
    if delete_view:
        patterns.append(path(f"{prefix}<int:pk>/delete/", delete_view.as_view(), name=f"{name}-delete"))
    return patterns


def child_urls(model, edit_view, delete_view, *, parent: str, plural: str):
    """Records edited from their parent's page (registrations and batches on the product page, defects)."""
    name = model._meta.model_name
    return [
        path(f"{parent}/<int:parent_pk>/{plural}/add/", edit_view.as_view(), name=f"{name}-add"),
        path(f"{plural}/<int:pk>/edit/", edit_view.as_view(), name=f"{name}-edit"),
        path(f"{plural}/<int:pk>/delete/", delete_view.as_view(), name=f"{name}-delete"),
    ]
