"""Enterprise dossier 企业档案 benchmark: SQL queries and median time per page, few vs many records.

Run on a generated province data set (see benchmarks/risk_bench.py for generating one):

    YAOJIAN_SQLITE_PATH=/tmp/province.sqlite3 .venv/bin/python benchmarks/dossier.py --runs 5

Logs in as a province regulator (省局, 320000), requests ``registry:enterprise-detail`` and every tab
URL found in that page's HTML (hx-get/href containing ``/tab/``), for the enterprises with the most
records and a few with the fewest. The query count per page should not grow with the record count.
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from yaojian.core.choices import Role  # noqa: E402
from yaojian.core.models import User  # noqa: E402
from yaojian.registry.models import Enterprise  # noqa: E402

# Reverse relations counted as the dossier's "records" 档案记录.
RECORD_RELATIONS = ("adr_reports", "inspections", "sampling_tests", "complaints")
TAB_URL = re.compile(r'(?:hx-get|href)="([^"]*/tab/[^"]*)"')


def record_counts(limit):
    """(pk, total records) for the busiest enterprises, by ADR reports first (the largest table)."""
    busiest = Enterprise.objects.annotate(n=Count("adr_reports")).order_by("-n").values_list("pk", flat=True)[:limit]
    quiet = Enterprise.objects.annotate(n=Count("adr_reports")).order_by("n").values_list("pk", flat=True)[:limit]
    rows = []
    for pk in [*busiest, *quiet]:
        ent = Enterprise.objects.get(pk=pk)
        rows.append((pk, sum(getattr(ent, rel).count() for rel in RECORD_RELATIONS)))
    return rows


def province_client():
    user, _ = User.objects.get_or_create(
        username="bench-province", defaults={"role": Role.REGULATOR, "division_id": "320000"}
    )
    client = Client()
    client.force_login(user)
    return client


def measure(client, url, runs):
    timings, queries, status = [], 0, None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - start)
        queries, status = len(ctx.captured_queries), response.status_code
    return status, queries, statistics.median(timings), response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per URL (median reported)")
    parser.add_argument("--enterprises", type=int, default=3, help="how many busiest and quietest enterprises")
    args = parser.parse_args()

    client = province_client()
    print(f"{'enterprise':>10} {'records':>8}  {'status':>6} {'queries':>7} {'median ms':>9}  url")
    for pk, records in record_counts(args.enterprises):
        detail = reverse("registry:enterprise-detail", args=[pk])
        status, queries, median, response = measure(client, detail, args.runs)
        print(f"{pk:>10} {records:>8}  {status:>6} {queries:>7} {median * 1000:>9.1f}  {detail}")
        tabs = dict.fromkeys(TAB_URL.findall(response.content.decode())) if status == 200 else {}
        for url in tabs:
            status, queries, median, _ = measure(client, url, args.runs)
            print(f"{'':>10} {'':>8}  {status:>6} {queries:>7} {median * 1000:>9.1f}  {url}")


if __name__ == "__main__":
    main()
