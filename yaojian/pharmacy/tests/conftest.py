import datetime

import numpy as np
import pytest

from yaojian.core.choices import Role
from yaojian.core.identifiers import build_uscc
from yaojian.core.testing import make_user
from yaojian.pharmacy.defaults import ensure_default_classes
from yaojian.pharmacy.models import DailyCount, DrugClass
from yaojian.registry.models import Enterprise

# Pharmacies of the test world: four in 鼓楼区, two in 玄武区 (both 南京市), one in 梁溪区 (无锡市).
PHARMACY_DISTRICTS = ("320106",) * 4 + ("320102",) * 2 + ("320213",)
AS_OF = datetime.date(2025, 6, 30)


@pytest.fixture
def shops(world):
    """The world plus seven retail pharmacies and an account for the first two (``shop``, ``shop2``)."""
    ensure_default_classes(DrugClass)
    for n, code in enumerate(PHARMACY_DISTRICTS, start=1):
        Enterprise.objects.create(
            name=f"药店{n}号大药房",
            credit_code=build_uscc(code, f"8{n:07d}"),
            type="retail_pharmacy",
            division_id=code,
            address=f"药店路{n}号",
            legal_representative="钱某",
        )
    world.pharmacies = list(Enterprise.objects.filter(type="retail_pharmacy").order_by("pk"))
    world.users["shop"] = make_user("shop", Role.ENTERPRISE, "320106", enterprise=world.pharmacies[0])
    world.users["shop2"] = make_user("shop2", Role.ENTERPRISE, "320106", enterprise=world.pharmacies[1])
    return world


def plant_counts(pharmacies, drug_class, as_of, *, days=60, spikes=(), base=6, seed=3):
    """Daily counts written directly (Poisson around ``base``); ``spikes`` pharmacies get 6 × on ``as_of``."""
    rng = np.random.default_rng(seed)
    rows = []
    for pharmacy in pharmacies:
        values = rng.poisson(base, days)
        if pharmacy in spikes:
            values[-1] = base * 6
        for i, value in enumerate(values):
            day = as_of - datetime.timedelta(days=days - 1 - i)
            rows.append(
                DailyCount(
                    day=day,
                    pharmacy=pharmacy,
                    division_code=pharmacy.division_id,
                    drug_class=drug_class,
                    purchases=value,
                    quantity=value,
                    buyers=value,
                )
            )
    DailyCount.objects.bulk_create(rows)
