"""Demo data generator 演示数据生成 — deterministic synthetic districts and provinces.

``generate(scale, seed, division)`` writes enterprises of every type with licences,
products, registrations and batches, three years of inspections with graded defects,
sampling tests, ADR reports, complaints, penalties and credit ratings, for real GB/T 2260
divisions. The same seed gives the same data. A seeded share of enterprises are planted
as latent bad actors whose records worsen after an onset date; ``ground_truth`` lists them,
so that risk models can be evaluated without peeking.

Rows are produced from a NumPy random generator in a fixed order and written with
``bulk_create`` in large batches; each model's rows get one audit record (content
summary, seed) and the generation id in ``import_batch``.
"""

import csv
import datetime
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from yaojian.adr.models import AdrReaction, AdrReport
from yaojian.complaints.models import Complaint
from yaojian.core import audit
from yaojian.core.choices import AuditAction
from yaojian.core.identifiers import USCC_ALPHABET, build_uscc
from yaojian.core.models import Division
from yaojian.credit.models import CreditRating
from yaojian.enforcement.models import Penalty
from yaojian.inspections.models import Defect, Inspection
from yaojian.registry.models import Batch, Enterprise, Licence, Product, ProductPackage, Registration
from yaojian.registry.packaging import default_packages
from yaojian.sampling.models import SamplingTest

from . import vocabulary as V

YEARS = 3
BATCH_SIZE = 5000


@dataclass(frozen=True)
class Scale:
    enterprises: int
    products_per_maker: float
    adr_per_year: int
    complaints_per_year: int
    default_division: str


SCALES = {
    "tiny": Scale(60, 4, 200, 20, "320106"),
    "district": Scale(1000, 28, 6000, 300, "320106"),
    "province": Scale(50000, 28, 330000, 15000, "320000"),
}
BAD_ACTOR_SHARE = 0.05
GSP_ITEMS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "regulations" / "gsp_inspection_items.csv"


@dataclass
class Plan:
    """What was generated, in memory, for linking and for the ground truth."""

    seed: int
    scale: str
    as_of: datetime.date
    generation_id: str
    enterprises: list = field(default_factory=list)
    bad: np.ndarray | None = None
    onset: list = field(default_factory=list)
    planted: dict = field(default_factory=dict)  # enterprise index → event counts after onset
    signals: list = field(default_factory=list)  # planted drug–event signals: (product, reaction, cases)
    counts: dict = field(default_factory=dict)


def _pick(rng, seq, size=None):
    return (
        [seq[i] for i in rng.integers(0, len(seq), size=size)] if size is not None else seq[rng.integers(0, len(seq))]
    )


def _days_between(rng, start: datetime.date, end: datetime.date, size: int) -> list[datetime.date]:
    offsets = rng.integers(0, max((end - start).days, 1) + 1, size=size)
    base = start.toordinal()
    return [datetime.date.fromordinal(base + int(o)) for o in offsets]


def _person(rng) -> str:
    given = V.GIVEN
    n = 1 + int(rng.random() < 0.6)
    start = rng.integers(0, len(given) - n)
    return V.SURNAMES[rng.integers(0, len(V.SURNAMES))] + given[start : start + n]


def _org_body(index: int, seed: int) -> str:
    """Eight characters of a 组织机构代码 body: "MA" plus a base-31 serial (unique per index and seed)."""
    value = index * 97 + seed % 97
    chars = []
    for _ in range(6):
        value, digit = divmod(value, 31)
        chars.append(USCC_ALPHABET[digit])
    return "MA" + "".join(reversed(chars))


def _gsp_items() -> list[tuple[str, str, str]]:
    grades = {"严重": "critical", "主要": "major", "一般": "minor"}
    if not GSP_ITEMS.exists():
        return [(code, text, "major") for code, text in V.GMP_DEFECTS]
    with open(GSP_ITEMS, encoding="utf-8") as fh:
        return [(f"GSP{row['item_no']}", row["text"][:200], grades[row["grade"]]) for row in csv.DictReader(fh)]


def _bulk(model, objects, plan: Plan) -> list:
    created = model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    digest = hashlib.sha256()
    for obj in created:
        digest.update(f"{obj.pk}:{obj}".encode())
    audit.record(
        actor=None,
        action=AuditAction.IMPORT,
        object_type=model._meta.label_lower,
        object_repr=f"演示数据生成 {plan.scale} seed={plan.seed}",
        after={
            "rows": len(created),
            "generator": plan.generation_id,
            "seed": plan.seed,
            "scale": plan.scale,
            "sha256": digest.hexdigest(),
        },
    )
    plan.counts[model._meta.verbose_name] = len(created)
    return created


def _districts(code: str) -> list[str]:
    division = Division.objects.get(code=code)
    if division.level == "district":
        return [code]
    return list(
        Division.objects.filter(code__startswith=division.prefix, level="district").values_list("code", flat=True)
    )


@transaction.atomic
def generate(
    scale: str = "district", seed: int = 1, division: str | None = None, as_of: datetime.date | None = None
) -> Plan:
    """Write one synthetic data set; returns its plan (counts, bad actors) for the ground truth."""
    spec = SCALES[scale]
    as_of = as_of or timezone.localdate()
    rng = np.random.default_rng(seed)
    plan = Plan(seed=seed, scale=scale, as_of=as_of, generation_id=f"gen-{scale}-{seed}")
    start = as_of.replace(year=as_of.year - YEARS)
    districts = _districts(division or spec.default_division)
    names = dict(Division.objects.filter(code__in=districts).values_list("code", "name"))

    enterprises = _enterprises(rng, plan, spec, districts, names, start)
    products, batches = _products(rng, plan, spec, enterprises, start)
    _licences(rng, plan, enterprises, start)
    _inspections(rng, plan, enterprises, start)
    _sampling(rng, plan, enterprises, products, batches, start)
    _adr(rng, plan, spec, enterprises, products, batches, start)
    _complaints(rng, plan, spec, enterprises, products, start)
    _penalties_and_credit(rng, plan, enterprises, start)
    return plan


def _enterprises(rng, plan, spec, districts, names, start):
    types = list(V.TYPE_SHARES)
    shares = np.array(list(V.TYPE_SHARES.values()))
    n = spec.enterprises
    kinds = rng.choice(len(types), size=n, p=shares / shares.sum())
    kinds[: len(types)] = np.arange(len(types))  # every type present, even at tiny scale
    placed = rng.integers(0, len(districts), size=n)
    plan.bad = rng.random(n) < BAD_ACTOR_SHARE
    onset_offsets = rng.integers(int(365 * 0.3), int(365 * 1.8), size=n)
    plan.onset = [start + datetime.timedelta(days=int(d)) for d in onset_offsets]
    seen = set()
    objects = []
    for i in range(n):
        etype = types[kinds[i]]
        code = districts[placed[i]]
        trade = _pick(rng, V.TRADE_WORDS)
        place = names[code].removesuffix("区").removesuffix("县").removesuffix("市")
        name = (
            f"南京{trade}{_pick(rng, V.NAME_SUFFIX[etype])}"
            if code.startswith("3201")
            else f"{place}{trade}{_pick(rng, V.NAME_SUFFIX[etype])}"
        )
        if etype in ("retail_pharmacy", "clinic") and rng.random() < 0.5:
            name = (
                f"{trade}{_pick(rng, V.NAME_SUFFIX[etype])}（{_pick(rng, V.STREETS)}店）"
                if etype == "retail_pharmacy"
                else f"{_person(rng)}{_pick(rng, V.NAME_SUFFIX[etype])}"
            )
        if name in seen:
            name = f"{name}（{i}）"  # a second enterprise of the same name gets its serial
        seen.add(name)
        scale_draw = rng.random()
        objects.append(
            Enterprise(
                name=name,
                credit_code=build_uscc(code, _org_body(i, plan.seed)),
                type=etype,
                division_id=code,
                division_code=code,
                address=f"{names[code]}{_pick(rng, V.STREETS)}{int(rng.integers(1, 400))}号",
                legal_representative=_person(rng),
                contact_phone=f"025-{int(rng.integers(50000000, 89999999))}",
                scale="large" if scale_draw > 0.92 else "medium" if scale_draw > 0.7 else "small",
                established_on=start - datetime.timedelta(days=int(rng.integers(30, 6000))),
                import_batch=plan.generation_id,
            )
        )
    plan.enterprises = _bulk(Enterprise, objects, plan)
    return plan.enterprises


def _products(rng, plan, spec, enterprises, start):
    makers = [
        e for e in enterprises if e.type in ("drug_manufacturer", "device_manufacturer", "cosmetics_manufacturer")
    ]
    serial = {"H": 0, "Z": 0, "S": 0, "dev2": 0, "dev3": 0, "cos_special": 0, "cos_filing": 0}
    objects = []
    for maker in makers:
        count = max(1, int(rng.poisson(spec.products_per_maker)))
        for _ in range(count):
            year = int(rng.integers(2005, start.year + YEARS))
            if maker.type == "drug_manufacturer":
                name, form, spec_text, dtype, flags = _pick(rng, V.DRUGS)
                letter = {"chemical": "H", "tcm": "Z", "biological": "S"}[dtype]
                serial[letter] += 1
                number = f"国药准字{letter}{year}{serial[letter] % 10000:04d}"
                product = Product(
                    category="drug",
                    name=name,
                    approval_number=number,
                    dosage_form=form,
                    specification=spec_text,
                    drug_type=dtype,
                    is_prescription="R" in flags,
                    is_injection="I" in flags,
                    is_paediatric="P" in flags,
                    is_vaccine="V" in flags,
                    is_blood_product="B" in flags,
                    is_narcotic_psychotropic="N" in flags,
                    is_cold_chain="C" in flags,
                )
            elif maker.type == "device_manufacturer":
                name, klass, flags = _pick(rng, V.DEVICES)
                key = f"dev{klass}"
                serial[key] += 1
                issuer = "苏" if klass == "2" else "国"
                number = f"{issuer}械注准{year}{klass}{int(rng.integers(1, 78)):02d}{serial[key] % 10000:04d}"
                product = Product(
                    category="device",
                    name=name,
                    approval_number=number,
                    device_class=klass,
                    dosage_form="无菌" if "S" in flags else "",
                    is_sterile_device="S" in flags,
                    is_implant="M" in flags,
                )
            else:
                name, special = _pick(rng, V.COSMETICS)
                if special:
                    serial["cos_special"] += 1
                    number = f"国妆特字{year}{serial['cos_special'] % 10000:04d}"
                else:
                    serial["cos_filing"] += 1
                    number = f"苏G妆网备字{year}{serial['cos_filing'] % 1000000:06d}"
                product = Product(category="cosmetic", name=name, approval_number=number)
            product.name = f"{product.name}" if rng.random() < 0.7 else f"{maker.name[2:4]}牌{product.name}"
            product.holder_id = product.manufacturer_id = maker.pk
            product.division_code = maker.division_code
            product.import_batch = plan.generation_id
            objects.append(product)
    # Approval numbers are unique keys: keep the first of any accidental repeat.
    unique, seen = [], set()
    for product in objects:
        if product.approval_number not in seen:
            seen.add(product.approval_number)
            unique.append(product)
    products = _bulk(Product, unique, plan)
    _packages(plan, products)
    registrations = [
        Registration(
            product_id=p.pk,
            kind={"drug": "approval", "device": "registration", "cosmetic": "filing"}[p.category],
            number=p.approval_number,
            issued_on=start - datetime.timedelta(days=int(rng.integers(0, 1500))),
            valid_until=start + datetime.timedelta(days=int(rng.integers(200, 1900)))
            if p.category != "cosmetic"
            else None,
            division_code=p.division_code,
            import_batch=plan.generation_id,
        )
        for p in products
    ]
    _bulk(Registration, registrations, plan)
    batch_objects = []
    for p in products:
        for k in range(int(rng.integers(2, 7))):
            made = _days_between(rng, start, plan.as_of, 1)[0]
            batch_objects.append(
                Batch(
                    product_id=p.pk,
                    batch_number=f"{made:%y%m%d}{k + 1:02d}",
                    manufactured_on=made,
                    expires_on=made + datetime.timedelta(days=730),
                    quantity=int(rng.integers(1000, 200000)),
                    division_code=p.division_code,
                    import_batch=plan.generation_id,
                )
            )
    unique_batches = {(b.product_id, b.batch_number): b for b in batch_objects}
    batches = _bulk(Batch, list(unique_batches.values()), plan)
    by_product: dict[int, list] = {}
    for b in batches:
        by_product.setdefault(b.product_id, []).append(b)
    return products, by_product


def _packages(plan, products) -> None:
    """The three packaging levels 药品包装规格 of each drug with their 药品标识码 (allocated from the product key);
    a code already registered (keys wrap past 300,000) is left out rather than reused."""
    taken = set(ProductPackage.objects.values_list("identifier", flat=True))
    packages = []
    for p in products:
        if p.category != "drug":
            continue
        for values in default_packages(p.pk, p.specification):
            if values["identifier"] not in taken:
                taken.add(values["identifier"])
                packages.append(
                    ProductPackage(product=p, division_code=p.division_code, import_batch=plan.generation_id, **values)
                )
    _bulk(ProductPackage, packages, plan)


LICENCE_TYPES = {
    "drug_manufacturer": ("drug_manufacturing", "苏{:08d}", "片剂、胶囊剂、颗粒剂、注射剂"),
    "drug_wholesaler": ("drug_wholesale", "苏AA{:07d}", "中成药、化学药、生物制品（除疫苗）"),
    "retail_chain": ("drug_wholesale", "苏AB{:07d}", "中成药、化学药、生物制品（连锁总部）"),
    "retail_pharmacy": ("drug_retail", "苏CB{:07d}", "处方药、甲类非处方药、乙类非处方药：中成药、化学药"),
    "medical_institution": ("medical_institution", "PDY{:08d}32010617A1001", "内科；外科；妇产科；儿科；医学检验科"),
    "clinic": ("medical_institution", "PDY{:08d}32010617D2102", "全科医疗科"),
    "aesthetics": ("medical_institution", "PDY{:08d}32010617M3301", "医疗美容科：美容外科、美容皮肤科"),
    "device_manufacturer": ("device_manufacturing", "苏药监械生产许{:08d}号", "Ⅱ类、Ⅲ类医疗器械"),
    "device_trader": ("device_trade", "苏宁食药监械经营许{:08d}号", "Ⅲ类医疗器械（除体外诊断试剂）"),
    "cosmetics_manufacturer": ("cosmetics_manufacturing", "苏妆{:08d}", "一般液态单元、膏霜乳液单元"),
}


def _licences(rng, plan, enterprises, start):
    objects = []
    for i, ent in enumerate(enterprises):
        if ent.type not in LICENCE_TYPES:
            continue  # cosmetics traders need no licence
        ltype, pattern, scope = LICENCE_TYPES[ent.type]
        issued = plan.as_of - datetime.timedelta(days=int(rng.integers(30, 5 * 365 + 200)))
        valid_until = issued + datetime.timedelta(days=5 * 365)
        status = "valid" if valid_until >= plan.as_of else "expired"
        objects.append(
            Licence(
                enterprise_id=ent.pk,
                type=ltype,
                number=pattern.format(plan.seed * 1000000 + i),
                scope=scope,
                issued_on=issued,
                valid_until=valid_until,
                status=status,
                division_code=ent.division_code,
                import_batch=plan.generation_id,
            )
        )
    _bulk(Licence, objects, plan)


INSPECTION_RATE = {  # inspections per year, and the kinds used
    "drug_manufacturer": (1.6, ["gmp", "gmp", "flying", "gvp"]),
    "drug_wholesaler": (1.0, ["gsp", "gsp", "flying"]),
    "retail_chain": (0.8, ["gsp", "daily"]),
    "retail_pharmacy": (0.4, ["gsp", "daily", "daily"]),
    "medical_institution": (0.5, ["daily"]),
    "clinic": (0.3, ["daily"]),
    "aesthetics": (0.6, ["daily", "flying"]),
    "device_manufacturer": (1.2, ["daily", "flying"]),
    "device_trader": (0.4, ["daily"]),
    "cosmetics_manufacturer": (0.8, ["daily"]),
    "cosmetics_trader": (0.2, ["daily"]),
}
DEFECT_RATES = {"critical": 0.04, "major": 0.6, "minor": 1.6}  # per inspection, ordinary enterprise
BAD_MULTIPLIER = {"critical": 14.0, "major": 3.0, "minor": 1.5}


def _badness(plan, i, day) -> bool:
    return bool(plan.bad[i]) and day >= plan.onset[i]


def _plant(plan, i, kind, n=1):
    if n:
        counts = plan.planted.setdefault(i, {})
        counts[kind] = counts.get(kind, 0) + n


def _inspections(rng, plan, enterprises, start):
    gsp = _gsp_items()
    inspections, defect_specs = [], []
    serial = 0
    for i, ent in enumerate(enterprises):
        rate, kinds = INSPECTION_RATE[ent.type]
        days = _days_between(rng, start, plan.as_of, int(rng.poisson(rate * YEARS)))
        if plan.bad[i]:
            # Complaints and failures after the onset draw for-cause (flying) inspections, about one a year.
            years_bad = max((plan.as_of - plan.onset[i]).days, 0) / 365
            days += _days_between(rng, plan.onset[i], plan.as_of, int(rng.poisson(1.0 * years_bad)))
        for day in sorted(days):
            serial += 1
            bad = _badness(plan, i, day)
            counts = {g: int(rng.poisson(r * (BAD_MULTIPLIER[g] if bad else 1.0))) for g, r in DEFECT_RATES.items()}
            conclusion = "non_compliant" if counts["critical"] else "basically" if counts["major"] else "compliant"
            inspections.append(
                Inspection(
                    number=f"JC{day:%Y%m%d}{serial:06d}",
                    enterprise_id=ent.pk,
                    kind=_pick(rng, kinds),
                    inspected_on=day,
                    inspectors=f"{_person(rng)}、{_person(rng)}",
                    conclusion=conclusion,
                    summary="现场检查发现缺陷，已责令限期整改" if conclusion != "compliant" else "未发现明显缺陷",
                    division_code=ent.division_code,
                    import_batch=plan.generation_id,
                )
            )
            defect_specs.append((counts, day))
            if bad:
                _plant(plan, i, "critical_defects", counts["critical"])
    created = _bulk(Inspection, inspections, plan)
    defects = []
    for inspection, (counts, day) in zip(created, defect_specs, strict=True):
        used = set()
        for grade, n in counts.items():
            pool = [item for item in gsp if item[2] == grade] or gsp
            for _ in range(n):
                code, text, _g = _pick(rng, pool)
                if inspection.kind in ("gmp", "flying") and rng.random() < 0.6:
                    code, text = _pick(rng, V.GMP_DEFECTS)
                if code in used:
                    continue
                used.add(code)
                defects.append(
                    Defect(
                        inspection_id=inspection.pk,
                        code=code,
                        grade=grade,
                        description=text,
                        rectification_due=day + datetime.timedelta(days=30),
                        rectified_on=day + datetime.timedelta(days=int(rng.integers(10, 40)))
                        if day + datetime.timedelta(days=40) < plan.as_of
                        else None,
                        division_code=inspection.division_code,
                        import_batch=plan.generation_id,
                    )
                )
    _bulk(Defect, defects, plan)


def _sampling(rng, plan, enterprises, products, batches, start):
    index = {e.pk: i for i, e in enumerate(enterprises)}
    sellers = [e for e in enterprises if e.type in ("retail_pharmacy", "retail_chain", "drug_wholesaler")]
    tests, serial = [], 0
    for p in products:
        for batch in batches.get(p.pk, []):
            if rng.random() > 0.45:
                continue
            serial += 1
            holder_i = index[p.holder_id]
            day = min(batch.manufactured_on + datetime.timedelta(days=int(rng.integers(20, 200))), plan.as_of)
            at_seller = sellers and p.category == "drug" and rng.random() < 0.3
            site = _pick(rng, sellers) if at_seller else enterprises[holder_i]
            bad = _badness(plan, holder_i, day)
            fail = rng.random() < (0.22 if bad else 0.015)
            if fail and bad:
                _plant(plan, holder_i, "sampling_failures")
            tests.append(
                SamplingTest(
                    number=f"CJ{day:%Y}{serial:07d}",
                    enterprise_id=site.pk,
                    product_id=p.pk,
                    batch_id=batch.pk,
                    kind="supervisory" if rng.random() < 0.8 else "evaluative",
                    sampled_on=day,
                    result="fail" if fail else "pass",
                    failed_items=_pick(rng, V.FAILED_ITEMS) if fail else "",
                    reported_on=min(day + datetime.timedelta(days=25), plan.as_of),
                    division_code=site.division_code,
                    import_batch=plan.generation_id,
                )
            )
    _bulk(SamplingTest, tests, plan)


ADR_SOURCES = {"hospital": 0.68, "holder": 0.1, "distributor": 0.05, "individual": 0.05, "sentinel": 0.12}
ADR_CAUSALITY = {
    "certain": 0.05,
    "probable": 0.3,
    "possible": 0.4,
    "unlikely": 0.08,
    "pending": 0.12,
    "unassessable": 0.05,
}
SERIOUS_FLAGS = ("life_threatening", "hospitalisation", "disabling", "other_medically_important")
ADR_FLAGS = ("results_in_death", *SERIOUS_FLAGS)
ADR_CHILD_CHUNK = 50000


def _adr(rng, plan, spec, enterprises, products, batches, start):
    """ADR cases 不良反应报告 with their drugs and reactions.

    The draws that shaped reports before drugs and reactions existed still come from ``rng`` in the same
    order, so the rest of the data set (complaints, penalties …) is unchanged; the case details
    (source, dates, causality, children) come from a second generator seeded from the same seed.
    """
    drugs = [p for p in products if p.category in ("drug", "device")]
    if not drugs:
        return
    index = {e.pk: i for i, e in enumerate(enterprises)}
    reporters = [e.name for e in enterprises if e.type in ("medical_institution", "retail_pharmacy", "clinic")] or [
        "医院"
    ]
    weights = np.array([3.0 if p.is_injection else 1.0 for p in drugs])
    weights *= np.array([4.0 if plan.bad[index[p.holder_id]] else 1.0 for p in drugs])
    weights /= weights.sum()
    total = spec.adr_per_year * YEARS
    chosen = rng.choice(len(drugs), size=total, p=weights)
    days = _days_between(rng, start, plan.as_of, total)
    reactions = [r for r, _ in V.REACTIONS]
    r_weights = np.array([w for _, w in V.REACTIONS])
    r_pick = rng.choice(len(reactions), size=total, p=r_weights / r_weights.sum())
    severity = rng.random(total)
    reports, kept = [], []
    for k in range(total):
        p = drugs[chosen[k]]
        holder_i = index[p.holder_id]
        bad = _badness(plan, holder_i, days[k])
        if plan.bad[holder_i] and not bad and rng.random() < 0.75:
            continue  # before onset a bad actor's products are reported like anyone's
        seriousness = (
            "death"
            if severity[k] < 0.004 * (3 if bad else 1)
            else "serious"
            if severity[k] < 0.14 * (2 if bad else 1)
            else "general"
        )
        if bad and seriousness != "general":
            _plant(plan, holder_i, "serious_adr")
        product_batches = batches.get(p.pk, [])
        batch = _pick(rng, product_batches) if product_batches else None
        reports.append(
            AdrReport(
                report_number=f"ADR{days[k]:%Y}{plan.seed:02d}{k:08d}",
                enterprise_id=p.holder_id,
                product_id=p.pk,
                batch_id=batch.pk if batch else None,
                reporter_unit=_pick(rng, reporters),
                reported_on=days[k],
                onset_on=days[k] - datetime.timedelta(days=int(rng.integers(0, 10))),
                reaction=reactions[r_pick[k]],
                seriousness=seriousness,
                is_new=bool(rng.random() < 0.08),
                patient_sex="F" if rng.random() < 0.55 else "M",
                patient_age=int(rng.integers(1, 90)),
                outcome="death"
                if seriousness == "death"
                else _pick(rng, ["recovered", "improved", "improved", "unknown"]),
                division_code=p.division_code,
                import_batch=plan.generation_id,
            )
        )
        kept.append((p, batch))
    details = _adr_details(np.random.default_rng([plan.seed, 0xAD2]), reports, enterprises)
    _adr_signals(np.random.default_rng([plan.seed, 0x5165]), plan, reports, kept)
    created = _bulk(AdrReport, reports, plan)
    _adr_children(details, created, kept, drugs, reactions)


def _adr_signals(rng, plan, reports, kept) -> None:
    """Plant true signals 真实信号: a few well-reported products get a rare reaction of their own in a third
    of their reports, so disproportionality analysis has something real to find (listed by
    ``write_signal_truth``). Everything else about the reports stays as drawn."""
    by_product: dict[int, list[int]] = {}
    for k, (product, _batch) in enumerate(kept):
        by_product.setdefault(product.pk, []).append(k)
    eligible = sorted(pk for pk, ks in by_product.items() if len(ks) >= 15)
    if not eligible:
        return
    chosen = rng.choice(eligible, size=min(len(eligible), max(2, len(eligible) // 40)), replace=False)
    for j, pk in enumerate(sorted(int(c) for c in chosen)):
        term = V.SIGNAL_REACTIONS[j % len(V.SIGNAL_REACTIONS)]
        cases = [k for k in by_product[pk] if rng.random() < 1 / 3]
        for k in cases:
            reports[k].reaction = term
        plan.signals.append((kept[by_product[pk][0]][0], term, len(cases)))


def _adr_details(rng, reports, enterprises) -> dict:
    """Source 来源, first-knowledge date 首次获知日期 (some late), sentinel sites with sale dates, causality."""
    n = len(reports)
    sites = [e for e in enterprises if e.type in ("retail_pharmacy", "clinic")]
    sites = sites[: max(1, len(sites) * 3 // 10)] if sites else []  # a third of pharmacies/clinics are sentinels
    names = list(ADR_SOURCES) if sites else [s for s in ADR_SOURCES if s != "sentinel"]
    shares = np.array([ADR_SOURCES[s] for s in names])
    source = rng.choice(len(names), size=n, p=shares / shares.sum())
    late = rng.random(n) < 0.08
    lag = np.where(late, rng.integers(21, 61, size=n), rng.integers(0, 21, size=n))
    sale_gap = rng.integers(0, 6, size=n)
    site = rng.integers(0, max(len(sites), 1), size=n)
    causes = list(ADR_CAUSALITY)
    c_shares = np.array(list(ADR_CAUSALITY.values()))
    causality = rng.choice(len(causes), size=n, p=c_shares / c_shares.sum())
    for k, report in enumerate(reports):
        report.source = names[source[k]]
        report.received_on = report.reported_on - datetime.timedelta(days=int(lag[k]))
        report.onset_on = report.received_on - (report.reported_on - report.onset_on)  # known after it began
        report.causality = causes[causality[k]]
        if report.source == "sentinel":
            enterprise = sites[site[k]]
            report.reporting_enterprise_id, report.reporter_unit = enterprise.pk, enterprise.name
            report.sold_on = report.onset_on - datetime.timedelta(days=int(sale_gap[k]))
    return {
        "concomitant": rng.random(n) < 0.25,
        "other_drug": rng.random(n),
        "second_reaction": rng.random(n) < 0.15,
        "other_term": rng.integers(0, len(V.REACTIONS), size=n),
        "flag": rng.integers(0, len(SERIOUS_FLAGS), size=n),
    }


def _adr_children(details, reports, kept, drugs, terms):
    """Suspect drug (+ sometimes a concomitant one) and reactions whose criteria match the seriousness.

    Millions of child rows at province scale: written with one ``executemany`` per chunk rather than
    ORM ``bulk_create`` (whose per-value SQL compilation costs ~20× more here).
    """
    from yaojian.adr.models import AdrDrug

    day = connection.ops.adapt_datefield_value
    for lo in range(0, len(reports), ADR_CHILD_CHUNK):
        drug_rows, reaction_rows = [], []
        for k in range(lo, min(lo + ADR_CHILD_CHUNK, len(reports))):
            report, (product, batch) = reports[k], kept[k]
            drug_rows.append(
                {
                    "report_id": report.pk,
                    "position": 1,
                    "role": "suspect",
                    "product_id": product.pk,
                    "batch_id": batch.pk if batch else None,
                    "name": product.name,
                    "approval_number": product.approval_number,
                    "batch_number": batch.batch_number if batch else "",
                    "route": "静脉滴注" if product.is_injection else "口服",
                    "start_on": day(report.onset_on - datetime.timedelta(days=1)),
                    "causality": report.causality,
                }
            )
            if details["concomitant"][k]:
                other = drugs[int(details["other_drug"][k] * len(drugs))]
                drug_rows.append(
                    {
                        "report_id": report.pk,
                        "position": 2,
                        "role": "concomitant",
                        "product_id": other.pk,
                        "name": other.name,
                        "approval_number": other.approval_number,
                        "route": "口服",
                        "causality": "unlikely",
                    }
                )
            reaction = {
                "report_id": report.pk,
                "position": 1,
                "reported_term": report.reaction,
                "onset_on": day(report.onset_on),
                "outcome": report.outcome,
            }
            if report.seriousness == "death":
                reaction["results_in_death"] = True
            elif report.seriousness == "serious":
                reaction[SERIOUS_FLAGS[details["flag"][k]]] = True
            reaction_rows.append(reaction)
            term = terms[details["other_term"][k]]
            if details["second_reaction"][k] and term != report.reaction:
                second = {**reaction, **dict.fromkeys(ADR_FLAGS, False)}  # a further, non-serious reaction
                reaction_rows.append({**second, "position": 2, "reported_term": term})
        _insert_rows(AdrDrug, drug_rows)
        _insert_rows(AdrReaction, reaction_rows)


def _insert_rows(model, rows: list[dict]) -> None:
    """INSERT plain rows (values already in database form); absent columns take the field default."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: None if f.null and not f.has_default() else f.get_default() for f in fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    names = [f.attname for f in fields]
    params = [[row.get(n, defaults[n]) for n in names] for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY streams the chunk; executemany pays a round trip per row
            with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, params)


def _complaints(rng, plan, spec, enterprises, products, start):
    weights = np.array([4.0 if plan.bad[i] else 1.0 for i in range(len(enterprises))])
    weights *= np.array([2.0 if e.type in ("retail_pharmacy", "aesthetics", "clinic") else 1.0 for e in enterprises])
    total = spec.complaints_per_year * YEARS
    chosen = rng.choice(len(enterprises), size=total, p=weights / weights.sum())
    days = _days_between(rng, start, plan.as_of, total)
    complaints = []
    for k in range(total):
        i = int(chosen[k])
        ent = enterprises[i]
        bad = _badness(plan, i, days[k])
        closed = days[k] + datetime.timedelta(days=int(rng.integers(5, 60)))
        is_closed = closed < plan.as_of
        substantiated = bool(rng.random() < (0.75 if bad else 0.3)) if is_closed else None
        if bad and substantiated:
            _plant(plan, i, "substantiated_complaints")
        complaints.append(
            Complaint(
                number=f"TS{days[k]:%Y%m%d}{k:06d}",
                enterprise_id=ent.pk,
                channel=_pick(rng, ["hotline", "online", "letter", "referral"]),
                received_on=days[k],
                due_on=days[k] + datetime.timedelta(days=60),
                subject=_pick(rng, V.COMPLAINT_SUBJECTS),
                content="群众反映相关问题，请核查处理。",
                complainant_name=_person(rng),
                complainant_phone=f"1{int(rng.integers(3, 9))}{int(rng.integers(100000000, 999999999))}",
                status="closed" if is_closed else "investigating",
                substantiated=substantiated,
                closed_on=closed if is_closed else None,
                division_code=ent.division_code,
                import_batch=plan.generation_id,
            )
        )
    _bulk(Complaint, complaints, plan)


def _penalties_and_credit(rng, plan, enterprises, start):
    penalties, ratings, serial = [], [], 0
    for i, ent in enumerate(enterprises):
        for year in range(start.year, plan.as_of.year + 1):
            day = datetime.date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
            if not (start < day <= plan.as_of):
                continue
            bad = _badness(plan, i, day)
            if rng.random() < (0.45 if bad else 0.03):
                serial += 1
                kind = _pick(
                    rng, ["fine", "fine", "confiscation", "suspension"] if bad else ["warning", "fine", "fine"]
                )
                penalties.append(
                    Penalty(
                        decision_number=f"宁市监药罚〔{year}〕{serial + plan.seed * 100000}号",
                        enterprise_id=ent.pk,
                        decided_on=day,
                        violation=V.VIOLATIONS[kind],
                        legal_basis="《中华人民共和国药品管理法》第一百二十六条",
                        kind=kind,
                        fine_amount=0 if kind == "warning" else int(rng.integers(1, 50)) * 10000,
                        is_published=True,
                        division_code=ent.division_code,
                        import_batch=plan.generation_id,
                    )
                )
                if bad:
                    _plant(plan, i, "penalties")
        for year in range(start.year + 1, plan.as_of.year + 1):
            day = datetime.date(year, 1, 15)
            if day > plan.as_of:
                continue
            bad = _badness(plan, i, day)
            grade = _pick(rng, ["C", "C", "D", "B"]) if bad else _pick(rng, ["A", "A", "A", "B", "B", "B", "B", "C"])
            ratings.append(
                CreditRating(
                    enterprise_id=ent.pk,
                    grade=grade,
                    rated_on=day,
                    basis=f"{year - 1}年度信用风险分类评定",
                    valid_until=datetime.date(year, 12, 31),
                    division_code=ent.division_code,
                    import_batch=plan.generation_id,
                )
            )
    _bulk(Penalty, penalties, plan)
    _bulk(CreditRating, ratings, plan)


def write_ground_truth(plan: Plan, path: Path) -> int:
    """The planted bad actors 潜在违规企业真值 as CSV (UTF-8 with BOM), outside the database."""
    kinds = ["critical_defects", "sampling_failures", "serious_adr", "substantiated_complaints", "penalties"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["credit_code", "name", "type", "division_code", "is_bad_actor", "onset_date", *kinds])
        for i, ent in enumerate(plan.enterprises):
            planted = plan.planted.get(i, {})
            writer.writerow(
                [
                    ent.credit_code,
                    ent.name,
                    ent.type,
                    ent.division_code,
                    int(bool(plan.bad[i])),
                    plan.onset[i].isoformat() if plan.bad[i] else "",
                    *[planted.get(k, 0) for k in kinds],
                ]
            )
    return int(plan.bad.sum())


def write_signal_truth(plan: Plan, path: Path) -> int:
    """The planted drug–event signals 真实信号 as CSV (UTF-8 with BOM): product, approval number, reaction."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["product_id", "product", "approval_number", "reaction", "planted_cases"])
        for product, reaction, cases in plan.signals:
            writer.writerow([product.pk, product.name, product.approval_number, reaction, cases])
    return len(plan.signals)


def finish(plan: Plan) -> str:
    """After-generation steps a loaded data set gets in use: reaction terms coded 不良反应术语编码."""
    from yaojian.casework.coding import code_pending

    result = code_pending(AdrReaction.objects.filter(report__import_batch=plan.generation_id))
    return f"不良反应术语编码：{result.coded}/{result.pending} 条已编码"


def summary(plan: Plan) -> str:
    lines = [f"生成完成：{plan.generation_id}（基准日 {plan.as_of}）"]
    lines += [f"  {name}：{count:,}" for name, count in plan.counts.items()]
    lines.append(f"  潜在违规企业：{int(plan.bad.sum())} 家（{math.floor(BAD_ACTOR_SHARE * 100)}%）")
    return "\n".join(lines)
