"""Fixtures for the sentinel tests: pharmacies in two districts of the test world, and a case factory."""

import datetime
import itertools

import pytest

from yaojian.adr.models import AdrReport
from yaojian.core.identifiers import build_uscc
from yaojian.registry.models import Batch, Enterprise

NOW = datetime.datetime(2025, 7, 10, 9, 0, tzinfo=datetime.UTC)
_numbers = itertools.count(1)


def make_pharmacy(code: str, name: str, etype: str = "retail_pharmacy") -> Enterprise:
    n = next(_numbers)
    return Enterprise.objects.create(
        name=name,
        credit_code=build_uscc(code, f"8{n:07d}"),
        type=etype,
        division_id=code,
        address=f"{name}路{n}号",
        legal_representative="李某",
    )


@pytest.fixture
def sites_world(world):
    """The test world plus a pharmacy in 鼓楼 (two) and 玄武, and a second batch of 鼓楼's product."""
    world.pharmacies = {
        "gulou": make_pharmacy("320106", "gulou大药房"),
        "gulou2": make_pharmacy("320106", "gulou二药房"),
        "xuanwu": make_pharmacy("320102", "xuanwu大药房"),
    }
    product = world.products["gulou"]
    world.batches = {"b1": world.records[("gulou", "registry.batch")]}
    world.batches["b2"] = Batch.objects.create(
        product=product, batch_number="B1002", manufactured_on=datetime.date(2025, 5, 1)
    )
    return world


def make_case(world, day, *, pharmacy="gulou", batch="b1", product="gulou", **extra) -> AdrReport:
    """One valid report of ``product`` seen at ``pharmacy`` on ``day`` (event and report the same day)."""
    n = next(_numbers)
    prod = world.products[product]
    fields = {
        "report_number": f"SP-{n}",
        "enterprise": prod.holder,
        "product": prod,
        "batch": world.batches[batch] if batch else None,
        "reporting_enterprise": world.pharmacies[pharmacy],
        "reported_on": day,
        "received_on": day,
        "reaction": "皮疹",
        "source": "sentinel",
        **extra,
    }
    return AdrReport.objects.create(**fields)
