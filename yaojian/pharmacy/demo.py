"""Demo purchases 演示购药数据: realistic daily real-name purchases for the pharmacies of a division,
with a planted outbreak that the detectors catch.

Counts per pharmacy × class × day are Poisson with a class rate (antipyretics 6, cough and cold 8, antivirals
1.5, antibiotics 5, antidiarrhoeals 2 buyers a day for an average shop), a shop size factor (gamma, mean 1) and a
weekday factor (weekends busier). The outbreak: antipyretic purchases in three pharmacies of one district rise
over the last five days to 4.5 × their usual rate (a febrile-illness cluster as in the 多点触发 guidance).
Buyers are drawn from each pharmacy's pool of synthetic residents with valid ID numbers of its district.
The same seed gives the same data; running it again replaces the demo records of those pharmacies.
"""

import datetime
import hashlib
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils import timezone

from yaojian.core import audit
from yaojian.core.choices import AuditAction
from yaojian.core.identifiers import RIC_WEIGHTS
from yaojian.core.models import Division
from yaojian.registry.models import Enterprise

from . import detection, services
from .defaults import ensure_default_classes
from .models import DrugClass, PurchaseRecord, Source

RATES = {"antipyretic": 6.0, "cough_cold": 8.0, "antiviral": 1.5, "antibiotic": 5.0, "antidiarrhoeal": 2.0}
WEEKDAY = np.array([1.0, 0.95, 0.95, 1.0, 1.05, 1.25, 1.2])  # Monday … Sunday
OUTBREAK_CLASS = "antipyretic"
OUTBREAK_RAMP = np.array([1.8, 2.6, 3.4, 4.0, 4.5])
OUTBREAK_PHARMACIES = 3
DRUGS = {
    "antipyretic": ["布洛芬缓释胶囊", "对乙酰氨基酚片", "小儿布洛芬混悬液", "阿司匹林泡腾片"],
    "cough_cold": ["复方氨酚烷胺片", "右美沙芬糖浆", "氨溴索口服液", "连花清瘟胶囊", "板蓝根颗粒"],
    "antiviral": ["磷酸奥司他韦胶囊", "阿比多尔片", "利巴韦林颗粒"],
    "antibiotic": ["阿莫西林胶囊", "头孢克肟分散片", "阿奇霉素片", "左氧氟沙星片"],
    "antidiarrhoeal": ["蒙脱石散", "盐酸小檗碱片", "口服补液盐散"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕彬辉鹏飞宇浩然欣怡子涵梓轩"
POOL = 400  # residents per pharmacy


@dataclass
class DemoSummary:
    pharmacies: int = 0
    records: int = 0
    days: int = 0
    outbreak_pharmacies: list = field(default_factory=list)
    outbreak_district: str = ""
    alerts: list = field(default_factory=list)

    def __str__(self):
        return (
            f"{self.pharmacies} 家药店，{self.days} 天，{self.records} 条实名购药记录；"
            f"植入疫情：{self.outbreak_district} {len(self.outbreak_pharmacies)} 家药店退热药购买激增；"
            f"检出预警 {len(self.alerts)} 条"
        )


def _resident_ids(rng, area: str, n: int) -> list[str]:
    """Valid 18-digit resident ID numbers (GB 11643) of ``area``: birth date, sequence, check digit."""
    births = np.datetime64("1950-01-01") + rng.integers(0, 365 * 65, n).astype("timedelta64[D]")
    sequence = rng.integers(0, 1000, n)
    body = [area + str(b).replace("-", "") + f"{s:03d}" for b, s in zip(births, sequence, strict=True)]
    digits = np.array([list(map(int, code)) for code in body])
    remainder = (12 - digits @ np.array(RIC_WEIGHTS) % 11) % 11
    return [code + ("X" if r == 10 else str(r)) for code, r in zip(body, remainder, strict=True)]


def _names(rng, n: int) -> list[str]:
    surnames = rng.choice(list(SURNAMES), n)
    first, second = rng.choice(list(GIVEN), n), rng.choice(list(GIVEN), n)
    two = rng.random(n) < 0.6
    return [s + a + (b if t else "") for s, a, b, t in zip(surnames, first, second, two, strict=True)]


def generate_purchases(
    *,
    division: str = "320106",
    days: int = 120,
    as_of: datetime.date | None = None,
    seed: int = 1,
    max_pharmacies: int = 30,
    detect_days: int = 7,
) -> DemoSummary:
    """Write the demo purchases of ``division``'s pharmacies, their daily counts, and run the detection."""
    as_of = as_of or timezone.localdate()
    rng = np.random.default_rng(seed)
    ensure_default_classes(DrugClass)
    prefix = Division.objects.get(code=division).prefix
    pharmacies = list(
        Enterprise.objects.filter(
            type__in=services.PHARMACY_TYPES, division_code__startswith=prefix, status="active"
        ).order_by("pk")[:max_pharmacies]
    )
    if len(pharmacies) < OUTBREAK_PHARMACIES:
        raise ValueError(f"{division} 内药店不足 {OUTBREAK_PHARMACIES} 家，请先生成演示企业（yaojian generate）")
    classes = list(DrugClass.objects.filter(is_active=True))
    start = as_of - datetime.timedelta(days=days - 1)
    dates = [start + datetime.timedelta(days=i) for i in range(days)]
    weekday = WEEKDAY[[d.weekday() for d in dates]]
    size = rng.gamma(4.0, 0.25, len(pharmacies))
    base = np.array([RATES.get(c.code, 3.0) for c in classes])
    rate = size[:, None, None] * base[None, :, None] * weekday[None, None, :]

    # The outbreak: three pharmacies of the district with most pharmacies, antipyretics, the last five days.
    codes = np.array([p.division_id for p in pharmacies])
    district = max(set(codes.tolist()), key=lambda c: ((codes == c).sum(), c))
    candidates = np.flatnonzero(codes == district)
    planted = rng.choice(candidates, OUTBREAK_PHARMACIES, replace=False)
    target = next((i for i, c in enumerate(classes) if c.code == OUTBREAK_CLASS), 0)
    ramp = OUTBREAK_RAMP[-min(days, OUTBREAK_RAMP.size) :]
    rate[planted[:, None], target, days - ramp.size + np.arange(ramp.size)] *= ramp
    counts = rng.poisson(rate)

    # One record per purchase: indices of (pharmacy, class, day) repeated by their count.
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    p_idx, c_idx, d_idx = np.unravel_index(flat, counts.shape)
    buyer = rng.integers(0, POOL, flat.size)
    minute = rng.integers(8 * 60, 21 * 60, flat.size)
    drug_pick = rng.integers(0, 1000, flat.size)
    pools = {i: (_names(rng, POOL), _resident_ids(rng, p.division_id, POOL)) for i, p in enumerate(pharmacies)}
    tz = timezone.get_current_timezone()
    records = []
    for n, (p, c, d, b, m, k) in enumerate(zip(p_idx, c_idx, d_idx, buyer, minute, drug_pick, strict=True)):
        pharmacy, drug_class, day = pharmacies[p], classes[c], dates[d]
        names, ids = pools[p]
        drugs = DRUGS.get(drug_class.code) or drug_class.keyword_list or [drug_class.name]
        records.append(
            PurchaseRecord(
                pharmacy=pharmacy,
                division_code=pharmacy.division_id,
                receipt_number=f"DEMO{day:%Y%m%d}{n:07d}",
                line=1,
                sold_at=datetime.datetime.combine(day, datetime.time(m // 60, m % 60), tzinfo=tz),
                sold_on=day,
                drug_name=drugs[k % len(drugs)],
                drug_class=drug_class,
                quantity=1 + int(k % 7 == 0),
                buyer_name=names[b],
                buyer_id_number=ids[b],
                source=Source.DEMO,
            )
        )
    hashes = {}
    for record in records:  # one keyed hash per resident, not per purchase
        key = record.buyer_id_number
        record.buyer_hash = hashes.get(key) or hashes.setdefault(key, services.privacy.buyer_hash(key))
    with transaction.atomic():
        PurchaseRecord.objects.filter(pharmacy__in=pharmacies, source=Source.DEMO).delete()
        PurchaseRecord.objects.bulk_create(records, batch_size=2000)
        services.refresh_counts(dates, pharmacy_ids=[p.pk for p in pharmacies])
        digest = hashlib.sha256(counts.tobytes()).hexdigest()
        audit.record(
            actor=None,
            action=AuditAction.IMPORT,
            object_type=PurchaseRecord._meta.label_lower,
            object_repr=f"演示实名购药记录 {len(records)} 条",
            division_code=division,
            after={"seed": seed, "records": len(records), "from": start, "to": as_of, "counts_sha256": digest},
        )
    summary = DemoSummary(
        pharmacies=len(pharmacies),
        records=len(records),
        days=days,
        outbreak_pharmacies=[pharmacies[i].name for i in planted],
        outbreak_district=Division.objects.get(code=district).name,
    )
    for offset in range(min(detect_days, days) - 1, -1, -1):
        found = detection.detect(as_of - datetime.timedelta(days=offset))
        summary.alerts.extend(pk for pk in found.created if pk not in summary.alerts)
    return summary
