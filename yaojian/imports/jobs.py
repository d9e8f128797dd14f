"""Background processing 后台处理 of upload jobs: a thread per job in the web process (no extra server).

Rows are written inside one transaction, so progress cannot be read from the database while the
job runs; the worker publishes it in ``PROGRESS`` (this process) and stores the final counts.
"""

import threading
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

from .engine import run_import
from .models import ImportJob, JobStatus

PROGRESS: dict[int, tuple[str, int, int]] = {}  # job id → (status, processed, total)


def storage_dir(job: ImportJob) -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports" / str(job.pk)
    path.mkdir(parents=True, exist_ok=True)
    return path


def process(job_id: int) -> ImportJob:
    """Run one job to completion and store its outcome (the worker; tests may call it directly)."""
    job = ImportJob.objects.select_related("actor").get(pk=job_id)
    job.status = JobStatus.VALIDATING
    job.save(update_fields=["status"])
    rejects = storage_dir(job) / "rejects.csv" if job.skip_invalid else None

    def progress(done: int, total: int) -> None:
        PROGRESS[job.pk] = (JobStatus.IMPORTING, done, total)

    try:
        result = run_import(
            job.kind,
            Path(job.stored_path),
            actor=job.actor,
            skip_invalid=job.skip_invalid,
            rejects_path=rejects,
            job_id=f"job-{job.pk}",
            file_name=job.file_name,
            progress=progress,
        )
    except Exception as exc:  # the job must end in a visible state whatever happened
        job.status, job.message = JobStatus.FAILED, f"导入失败：{type(exc).__name__}"
    else:
        job.sha256, job.total_rows, job.processed_rows = result.sha256, result.total, result.total
        job.created_count, job.updated_count = result.created, result.updated
        job.rejected_count, job.error_count = result.rejected, result.error_count
        job.error_report = [e.as_dict() for e in result.errors]
        job.rejects_path = str(rejects) if rejects and result.rejected else ""
        job.status = JobStatus.DONE if result.ok else JobStatus.FAILED
        job.message = summary(result)
    job.finished_at = timezone.now()
    job.save()
    PROGRESS.pop(job.pk, None)
    return job


def summary(result) -> str:
    if result.refused:
        return result.refused
    if not result.imported:
        return f"发现{result.rejected}行错误（共{result.error_count}处），未导入任何数据"
    return f"新增{result.created}行，更新{result.updated}行，拒绝{result.rejected}行"


def _run_in_thread(job_id: int) -> None:
    try:
        process(job_id)
    finally:
        connections.close_all()  # the thread's own connection


def start(job: ImportJob) -> None:
    """Start processing; ``YAOJIAN_IMPORT_INLINE`` runs it in the request (tests)."""
    if getattr(settings, "YAOJIAN_IMPORT_INLINE", False):
        process(job.pk)
        return
    PROGRESS[job.pk] = (JobStatus.QUEUED, 0, 0)
    threading.Thread(target=_run_in_thread, args=(job.pk,), name=f"import-{job.pk}", daemon=True).start()
