"""Import pages 数据导入: upload with a job list, job detail with live progress, templates and rejects.

Each user sees only their own jobs (the administrator sees all); the kinds offered are those the
role may add (``core.access``).
"""

from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from yaojian.core import access
from yaojian.core.choices import Role

from . import jobs
from .blanks import template_csv, template_xlsx
from .forms import UploadForm
from .models import ImportJob, JobStatus
from .specs import all_specs, get_spec


def _require(user) -> None:
    if not access.has_perm(user, ImportJob, access.ADD):
        raise PermissionDenied("无此操作权限")


def _kinds(user) -> list[str]:
    return [kind for kind, spec in all_specs().items() if access.has_perm(user, spec.model, access.ADD)]


def _jobs(user):
    qs = ImportJob.objects.select_related("actor")
    return qs if user.role == Role.ADMIN else qs.filter(actor=user)


def _attachment(data, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
def job_list(request):
    _require(request.user)
    kinds = _kinds(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.YAOJIAN_IMPORT_MAX_BYTES:
            form.add_error("file", "文件过大")
        else:
            job = ImportJob.objects.create(
                kind=form.cleaned_data["kind"],
                file_name=Path(upload.name).name[:255],
                skip_invalid=form.cleaned_data["skip_invalid"],
                actor=request.user,
            )
            # The stored name keeps only the extension: the user's file name never becomes a path.
            target = jobs.storage_dir(job) / ("upload" + Path(upload.name).suffix.lower())
            with open(target, "wb") as handle:
                for block in upload.chunks():
                    handle.write(block)
            job.stored_path = str(target)
            job.save(update_fields=["stored_path"])
            jobs.start(job)
            return redirect(job)
    specs = all_specs()
    context = {
        "form": form,
        "jobs": _jobs(request.user)[:50],
        "templates": [(kind, specs[kind].title) for kind in kinds],
    }
    return render(request, "imports/job_list.html", context)


def _job(request, pk) -> ImportJob:
    _require(request.user)
    return get_object_or_404(_jobs(request.user), pk=pk)


def _live(job: ImportJob) -> ImportJob:
    """Overlay the worker's in-memory progress while the job runs."""
    if job.running and job.pk in jobs.PROGRESS:
        job.status, job.processed_rows, job.total_rows = jobs.PROGRESS[job.pk]
    return job


@login_required
def job_detail(request, pk):
    job = _live(_job(request, pk))
    template = "imports/_progress.html" if request.htmx else "imports/job_detail.html"
    return render(request, template, {"job": job, "spec": get_spec(job.kind), "statuses": JobStatus})


@login_required
def job_rejects(request, pk):
    job = _job(request, pk)
    if not job.rejects_path or not Path(job.rejects_path).is_file():
        raise Http404("没有拒绝行文件")
    name = f"{Path(job.file_name).stem}-拒绝行.csv"
    return FileResponse(open(job.rejects_path, "rb"), as_attachment=True, filename=name, content_type="text/csv")


@login_required
def template_download(request, kind, fmt):
    _require(request.user)
    if kind not in _kinds(request.user) or fmt not in ("xlsx", "csv"):
        raise Http404("未知的模板")
    spec = get_spec(kind)
    if fmt == "csv":
        return _attachment(template_csv(spec), f"{spec.title}导入模板.csv", "text/csv; charset=utf-8")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _attachment(template_xlsx(spec), f"{spec.title}导入模板.xlsx", xlsx)
