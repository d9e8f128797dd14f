import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from yaojian.adr.models import AdrReport
from yaojian.core.testing import PASSWORD
from yaojian.imports import jobs
from yaojian.imports.models import ImportJob, JobStatus

from .test_engine import adr_rows


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("gbk")


@pytest.fixture
def client_for(client, world, settings, tmp_path):
    settings.YAOJIAN_IMPORT_INLINE = True  # the worker runs in the request instead of a thread
    settings.MEDIA_ROOT = tmp_path

    def login(key):
        client.login(username=world.users[key].username, password=PASSWORD)
        return client

    return login


def _upload(client, rows, name="adr.csv", skip=False):
    data = {"kind": "adr", "file": SimpleUploadedFile(name, _csv(rows))}
    if skip:
        data["skip_invalid"] = "on"
    return client.post(reverse("imports:job-list"), data)


def test_upload_flow_with_rejects(client_for, world):
    client = client_for("adr_analyst")
    page = client.get(reverse("imports:job-list"))
    assert page.status_code == 200 and "不良反应报告" in page.content.decode()
    rows = adr_rows(world, 3)
    rows[3][4] = "2025-02-30"
    response = _upload(client, rows, skip=True)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert (job.status, job.created_count, job.rejected_count) == (JobStatus.DONE, 2, 1)
    assert AdrReport.objects.filter(import_batch=f"job-{job.pk}").count() == 2
    detail = client.get(job.get_absolute_url()).content.decode()
    assert "日期不存在" in detail and "every 1s" not in detail
    rejects = client.get(reverse("imports:job-rejects", args=[job.pk]))
    assert "日期不存在" in b"".join(rejects.streaming_content).decode("utf-8-sig")


def test_all_or_nothing_job_fails_with_report(client_for, world):
    client = client_for("district")
    rows = adr_rows(world, 2) + adr_rows(world, 1, "liangxi")[1:]
    before = AdrReport.objects.count()
    _upload(client, rows)
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED and AdrReport.objects.count() == before
    assert job.error_report == [
        {"row": 4, "column": "企业统一社会信用代码", "value": rows[3][1], "reason": "超出本人辖区范围"}
    ]


def test_running_job_polls_and_jobs_are_private(client_for, world):
    owner = world.users["district"]
    job = ImportJob.objects.create(kind="adr", file_name="a.csv", actor=owner, status=JobStatus.IMPORTING)
    jobs.PROGRESS[job.pk] = (JobStatus.IMPORTING, 50, 200)
    try:
        page = client_for("district").get(job.get_absolute_url()).content.decode()
        assert 'hx-trigger="every 1s"' in page and "50 / 200" in page
    finally:
        jobs.PROGRESS.pop(job.pk)
    assert client_for("province").get(job.get_absolute_url()).status_code == 404
    assert client_for("admin").get(job.get_absolute_url()).status_code == 200
    assert client_for("inspector").get(reverse("imports:job-list")).status_code == 403


def test_template_downloads(client_for):
    client = client_for("district")
    response = client.get(reverse("imports:template", args=["licence", "xlsx"]))
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["许可证", "填写说明"]
    assert next(workbook["许可证"].iter_rows(values_only=True))[0] == "许可证编号"
    assert client.get(reverse("imports:template", args=["credit", "csv"])).content.startswith(b"\xef\xbb\xbf")
    assert client_for("adr_analyst").get(reverse("imports:template", args=["licence", "csv"])).status_code == 404


def test_worker_thread_runs_job(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    job = ImportJob.objects.create(kind="adr", file_name="a.csv", actor=world.users["admin"])
    path = jobs.storage_dir(job) / "upload.csv"
    path.write_bytes(_csv(adr_rows(world, 2)))
    job.stored_path = str(path)
    job.save()
    assert jobs.process(job.pk).created_count == 2
