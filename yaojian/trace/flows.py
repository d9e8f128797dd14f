"""Synthetic trace flows 模拟追溯流向 with planted anomalies and their ground truth.

Units are made by manufacturers (持有人/生产企业), packed 20 to a case and 10 cases to a pallet, shipped as pallets
to a wholesaler (批发企业), shipped on as cases to retail pharmacies (零售药店) and hospitals (医疗机构), and sold
(retail_selling) or dispensed (dispensing) there — split packs (拆零) in several scans whose units add up to the
pack. Some cases come back (退货), some units are destroyed (销毁), some stay in stock.

Everything is vectorised with NumPy/pyarrow and written straight into the event store's Parquet layout
(``<root>/events/event_date=YYYY-MM-DD/part-*.parquet``, one row per event × EPC), chunk by chunk, so 100 million
rows take minutes and little memory. The same seed gives the same files.

Planted anomalies 植入异常, one kind per chosen pallet so that each plant trips exactly its own rule:

=====================  ====================================================================================
duplicate_sale         a sold pack sold again by the same pharmacy, or a split pack scanned past its units
unreceived_sale        a pack in stock at one pharmacy sold by another that never received it
unlicensed_receiver    a case of a prescription drug shipped to a pharmacy licensed for OTC drugs only
expired_sale           a pack of a short-dated batch sold after its expiry date
destroyed_reappears    a destroyed pack sold afterwards
impossible_transit     a case received 1,000+ km away within hours of leaving the wholesaler
unusual_volume         three extra cases of one drug sold by one pharmacy within one week
=====================  ====================================================================================

The ground-truth CSV lists (kind, code, party) as :func:`yaojian.trace.anomalies.run_scan` reports them.

Parties are synthetic (``synthetic_parties``) or taken from the registry (``registry_parties``, Django); both give
the licence and product tables the scan needs. Event ids in ``event_hash`` are synthetic (``urn:yaojian:gen:…``):
computing the CBV hash of 100 million generated events would only measure hashing.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import multiprocessing
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yaojian.core.divisions import read_table
from yaojian.core.identifiers import build_uscc

from .anomalies import KINDS, PROVINCE_CENTROIDS, province_distance_km
from .codes import DRUG_CODE_URN
from .datasets import PARTY_URN
from .store import EVENT_ROW_GROUP, SCHEMA

UNITS_PER_CASE = 20
CASES_PER_PALLET = 10
UNITS_PER_PALLET = UNITS_PER_CASE * CASES_PER_PALLET
ROWS_PER_PALLET = 680  # measured average (1M rows), used to size a run from the requested row count
DAY = 86_400_000_000  # microseconds
HOUR = DAY // 24
CHINA = 8 * HOUR
SHORT_DATED_SHARE = 0.03  # batches with 95 days' shelf life, so that expiry falls inside the window
SPLIT_SHARE = 0.2  # products sold by the split unit (拆零)
FAR_KM = 1000.0  # distance of the impossible-transit plants' receivers

# ---------------------------------------------------------------- parties and products 主体与品种


@dataclass
class World:
    """Parties and products of a flow: party URNs by role and the two small tables the licence rule reads."""

    manufacturers: np.ndarray  # party URNs
    wholesalers: np.ndarray
    retailers: np.ndarray
    retail_rx: np.ndarray  # bool per retailer: licence covers prescription drugs
    hospitals: np.ndarray
    far: np.ndarray  # parties ≥ FAR_KM from home, receivers of the impossible-transit plants
    product_ids: np.ndarray  # 药品标识码 of the unit (7 digits); case/pallet levels by ids_at
    product_maker: np.ndarray  # index into manufacturers
    product_rx: np.ndarray
    product_controlled: np.ndarray
    product_units: np.ndarray  # split units per pack (1 = sold whole)
    unlicensed: np.ndarray  # parties the registry knows whose licence does not cover prescription drugs
    package_ids: np.ndarray | None = None  # (products, 3) registry 药品标识码 by level; None: derived by level_id

    def ids_at(self, level: int) -> np.ndarray:
        """药品标识码 of every product at a packaging level: the registry's, or derived from the unit's."""
        return level_id(self.product_ids, level) if self.package_ids is None else self.package_ids[:, level]

    def products_table(self) -> pa.Table:
        """Product table for the scan: one row per 药品标识码 and packaging level (unit, case, pallet)."""
        n = len(self.product_ids)
        ids = [self.ids_at(level) for level in (0, 1, 2)]
        return pa.table(
            {
                "code": pa.array(np.concatenate(ids)),
                "product": pa.array(np.tile(self.product_ids, 3)),
                "level": pa.array(np.repeat([0, 1, 2], n).astype(np.int8)),
                "rx": pa.array(np.tile(self.product_rx, 3)),
                "controlled": pa.array(np.tile(self.product_controlled, 3)),
                "units": pa.array(np.concatenate([self.product_units, np.full(2 * n, None)]), pa.int32()),
            }
        )

    def licences_table(self) -> pa.Table:
        """Licence table for the scan: what each known party may receive (drugs, prescription, controlled)."""
        parties = np.concatenate([self.manufacturers, self.wholesalers, self.retailers, self.hospitals])
        n_m, n_w, n_r, n_h = (len(a) for a in (self.manufacturers, self.wholesalers, self.retailers, self.hospitals))
        rx = np.concatenate([np.ones(n_m + n_w, bool), self.retail_rx, np.ones(n_h, bool)])
        controlled = np.concatenate([np.ones(n_m + n_w, bool), np.zeros(n_r, bool), np.ones(n_h, bool)])
        return pa.table(
            {
                "party": pa.array(parties),
                "drug_ok": pa.array(np.ones(len(parties), bool)),
                "rx_ok": pa.array(rx),
                "controlled_ok": pa.array(controlled),
            }
        )


def level_id(product_ids: np.ndarray, level: int) -> np.ndarray:
    """药品标识码 of a packaging level: the unit's code with its second digit raised by the level (8x… → 8(x+l)…).

    Each packaging level has its own 药品标识码 (NMPAB/T 1002-2019); generated unit ids keep digit 2 in 0–2, so
    case (+3) and pallet (+6) ids never collide with a unit id."""
    ids = np.asarray(product_ids).astype("U7")
    second = np.array([int(s[1]) for s in ids]) + 3 * level
    return np.array([s[0] + str(d) + s[2:] for s, d in zip(ids, second, strict=True)])


def _uscc_parties(divisions: np.ndarray, first_body: int) -> np.ndarray:
    bodies = (first_body + np.arange(len(divisions))) % 10**8
    return np.array([PARTY_URN + build_uscc(str(d), f"{b:08d}") for d, b in zip(divisions, bodies, strict=True)])


def synthetic_parties(units: int, seed: int, home: str = "32") -> World:
    """Parties for a province ``home`` (GB/T 2260 two-digit code) sized for ``units`` packs a year.

    Wholesalers, pharmacies and hospitals lie in the home province; manufacturers across the mainland."""
    rng = np.random.default_rng([seed, 0])
    table = [code for code, _ in read_table() if not code.endswith("00")]
    home_districts = np.array([c for c in table if c.startswith(home)])
    mainland = [p for p in PROVINCE_CENTROIDS if p < "71"]
    elsewhere = np.array([c for c in table if c[:2] in mainland])
    far_provinces = {p for p in mainland if province_distance_km(home, p) >= FAR_KM}
    far_districts = np.array([c for c in table if c[:2] in far_provinces])

    n_r = int(np.clip(units / 1500, 20, 6000))
    n_h, n_w = max(3, n_r // 5), int(np.clip(n_r // 50, 3, 100))
    n_p = int(np.clip(units / 15000, 20, 400))
    n_m = max(5, n_p // 4)
    home_m = rng.random(n_m) < 0.4
    m_div = np.where(home_m, rng.choice(home_districts, n_m), rng.choice(elsewhere, n_m))
    body = seed * 1_000_003 % 10**7 * 10
    parties = [
        _uscc_parties(m_div, body),
        _uscc_parties(rng.choice(home_districts, n_w), body + 100_000),
        _uscc_parties(rng.choice(home_districts, n_r), body + 200_000),
        _uscc_parties(rng.choice(home_districts, n_h), body + 300_000),
        _uscc_parties(rng.choice(far_districts, 20), body + 400_000),
    ]
    # Unit ids 8[0-3]xxxxx: the levels above add 3 and 6 to the second digit (see level_id).
    pid = np.array(
        [f"8{d}{n:05d}" for d, n in zip(rng.integers(0, 3, n_p), rng.choice(10**5, n_p, False), strict=True)]
    )
    controlled = rng.random(n_p) < 0.05
    return World(
        manufacturers=parties[0],
        wholesalers=parties[1],
        retailers=parties[2],
        retail_rx=np.arange(n_r) % 5 != 0,  # one pharmacy in five licensed for OTC drugs only (see unlicensed)
        hospitals=parties[3],
        far=parties[4],
        product_ids=pid,
        product_maker=rng.integers(0, n_m, n_p),
        product_rx=controlled | (rng.random(n_p) < 0.4),
        product_controlled=controlled,
        product_units=np.where(rng.random(n_p) < SPLIT_SHARE, rng.choice([2, 3, 5, 10], n_p), 1).astype(np.int32),
        unlicensed=parties[2][np.arange(n_r) % 5 == 0],
    )


def registry_world(seed: int, home: str | None = None) -> World:
    """Parties and products from the platform registry (Django): drug manufacturers, wholesalers (and chain
    headquarters), retail pharmacies, hospitals and clinics, with what their licences allow; drugs with their
    prescription/controlled flags and split units. A role the registry lacks is filled with synthetic parties."""
    from yaojian.registry.choices import EnterpriseType, ProductCategory
    from yaojian.registry.models import Enterprise, Product

    from .leads import registry_tables

    products_table, licences_table = registry_tables()
    licensed = {r["party"]: r for r in licences_table.to_pylist() if r["drug_ok"]}
    roles = {
        "manufacturers": [EnterpriseType.DRUG_MANUFACTURER],
        "wholesalers": [EnterpriseType.DRUG_WHOLESALER, EnterpriseType.RETAIL_CHAIN],
        "retailers": [EnterpriseType.RETAIL_PHARMACY],
        "hospitals": [EnterpriseType.MEDICAL_INSTITUTION, EnterpriseType.CLINIC],
    }
    found = {}
    for role, types in roles.items():
        codes = Enterprise.objects.filter(type__in=types).order_by("pk").values_list("credit_code", flat=True)
        found[role] = np.array([p for p in (PARTY_URN + c for c in codes) if p in licensed])
    drugs = list(
        Product.objects.filter(category=ProductCategory.DRUG, manufacturer__isnull=False)
        .order_by("pk")
        .values_list("approval_number", "manufacturer__credit_code")
    )
    makers = {m: i for i, m in enumerate(found["manufacturers"])}
    # The registry's 药品标识码 per packaging level; a drug without all three active levels is left out.
    levels = {(r["product"], r["level"]): r for r in products_table.to_pylist()}
    drugs = [
        (approval, makers[PARTY_URN + c])
        for approval, c in drugs
        if PARTY_URN + c in makers and all((approval, level) in levels for level in (0, 1, 2))
    ]
    if not drugs or any(len(found[r]) == 0 for r in roles) or home is None and not len(found["retailers"]):
        return synthetic_parties(10**6, seed, home or "32")
    home = home or found["retailers"][0][len(PARTY_URN) + 2 : len(PARTY_URN) + 4]
    far = synthetic_parties(10**5, seed, home).far
    package_ids = np.array([[levels[(approval, level)]["code"] for level in (0, 1, 2)] for approval, _ in drugs])
    units = [levels[(approval, 0)] for approval, _ in drugs]
    rx = np.array([u["rx"] for u in units])
    controlled = np.array([u["controlled"] for u in units])
    # Controlled drugs go to hospitals only; without a licensed hospital they are left out.
    return World(
        manufacturers=found["manufacturers"],
        wholesalers=found["wholesalers"],
        retailers=found["retailers"],
        retail_rx=np.array([licensed[p]["rx_ok"] for p in found["retailers"]]),
        hospitals=found["hospitals"],
        far=far,
        product_ids=package_ids[:, 0],
        product_maker=np.array([m for _, m in drugs]),
        product_rx=rx | controlled,
        product_controlled=controlled,
        product_units=np.array([u["units"] or 1 for u in units], dtype=np.int32),
        unlicensed=np.array([r["party"] for r in licences_table.to_pylist() if not r["rx_ok"]]),
        package_ids=package_ids,
    )


# ---------------------------------------------------------------- row building 行构造


def _codes(level_ids: np.ndarray, serials: np.ndarray) -> pa.Array:
    """20-digit 药品追溯码 URIs: the level's 药品标识码 + a 13-digit serial."""
    serial = pc.utf8_lpad(pc.cast(pa.array(serials.astype(np.int64)), pa.string()), 13, "0")
    return pc.binary_join_element_wise(DRUG_CODE_URN, pa.array(level_ids), serial, "")


class _Rows:
    """Column lists of one chunk; each add() appends one block of rows (scalars are broadcast)."""

    def __init__(self, seed: int, chunk: int):
        self.blocks: list[pa.Table] = []
        self.prefix = f"urn:yaojian:gen:{seed}:{chunk}:"
        self.events = 0

    def new_events(self, n: int) -> pa.Array:
        ids = pc.binary_join_element_wise(
            self.prefix, pc.cast(pa.array(np.arange(self.events, self.events + n)), pa.string()), ""
        )
        self.events += n
        return ids

    def add(self, *, event: pa.Array, time: np.ndarray, epc: pa.Array, role: str, biz_step: str, **cols):
        n = len(epc)
        fixed = {
            "event_type": "AggregationEvent" if biz_step == "packing" else "ObjectEvent",
            "tz_offset": "+08:00",
            "action": {"packing": "ADD", "commissioning": "ADD", "destroying": "DELETE"}.get(biz_step, "OBSERVE"),
            "biz_step": biz_step,
            "role": role,
            "ingest_id": "generated",
        }
        data = {}
        for field in SCHEMA:
            name = field.name
            value = {"event_hash": event, "event_time": time, "epc": epc}.get(name, cols.get(name, fixed.get(name)))
            if value is None:
                data[name] = pa.nulls(n, field.type)
            elif isinstance(value, str):
                data[name] = pa.array([value], field.type).take(pa.array(np.zeros(n, np.int32)))
            elif isinstance(value, pa.Array):
                data[name] = value.cast(field.type)
            else:
                data[name] = pa.array(np.asarray(value), field.type)
        self.blocks.append(pa.table(data, schema=SCHEMA))

    def table(self) -> pa.Table:
        return pa.concat_tables(self.blocks)


# ---------------------------------------------------------------- the flow 流向


@dataclass
class Plan:
    """Which pallets carry which planted anomaly (global pallet index → kind)."""

    kind_of: dict[int, str]


def _plan(n_pallets: int, per_kind: int, rng) -> Plan:
    per_kind = min(per_kind, n_pallets // (2 * len(KINDS)))
    chosen = rng.choice(n_pallets, per_kind * len(KINDS), replace=False)
    return Plan({int(p): KINDS[i // per_kind] for i, p in enumerate(chosen)} if per_kind else {})


@dataclass
class Result:
    rows: int
    events: int
    pallets: int
    units: int
    truth: list[tuple[str, str, str]]
    world: World


def generate(
    root: Path | str,
    *,
    events: int = 1_000_000,
    seed: int = 1,
    per_kind: int = 20,
    start: dt.date = dt.date(2025, 1, 1),
    days: int = 365,
    world: World | None = None,
    ground_truth: Path | str | None = None,
    chunk_pallets: int = 8000,
    clean: bool = False,
    workers: int = 1,
) -> Result:
    """Write about ``events`` event rows (event × EPC) under ``root/events``; returns counts and ground truth.

    ``clean=True`` plants nothing (for false-lead checks). ``world`` defaults to synthetic parties. ``workers``
    processes build chunks side by side; the result does not depend on their number."""
    root = Path(root)
    target, staging = root / "events", root / "staging" / f"generate-{seed}"
    for path in (target, staging):
        if path.exists():
            shutil.rmtree(path)
    staging.mkdir(parents=True)
    n_pallets = max(1, round(events / ROWS_PER_PALLET))
    world = world or synthetic_parties(n_pallets * UNITS_PER_PALLET, seed)
    rng = np.random.default_rng([seed, 1])
    plan = Plan({}) if clean else _plan(n_pallets, per_kind, rng)
    t0 = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp() * 1_000_000) - CHINA
    single = n_pallets <= chunk_pallets  # one chunk is gathered in memory, without a staging file
    jobs = [
        (seed, chunk, first, min(n_pallets, first + chunk_pallets), world, plan, t0, days,
         None if single else staging / f"chunk-{chunk:05d}.parquet")
        for chunk, first in enumerate(range(0, n_pallets, chunk_pallets))
    ]  # fmt: skip
    if workers > 1 and not single:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_chunk_job, jobs, chunksize=1)
    else:
        results = [_chunk_job(job) for job in jobs]
    _compact([(source, spans) for source, spans, *_ in results], target, f"g{seed}")
    shutil.rmtree(staging)
    with contextlib.suppress(OSError):  # an ingest may be using it
        (root / "staging").rmdir()
    truth = [t for *_, chunk_truth, _, _ in results for t in chunk_truth]
    rows, n_events = sum(r[3] for r in results), sum(r[4] for r in results)
    truth.sort()
    if ground_truth:
        write_ground_truth(truth, ground_truth)
    return Result(rows, n_events, n_pallets, n_pallets * UNITS_PER_PALLET, truth, world)


STAGING_ROW_GROUP = 1 << 14


def _stage(table: pa.Table, path: Path | None) -> tuple[Path | pa.Table, dict[int, tuple[int, int]]]:
    """A chunk's rows ordered by UTC day, with where each day's rows lie; written to ``path`` unless None (kept)."""
    day = table["event_time"].cast(pa.int64()).to_numpy() // DAY
    order = np.argsort(day, kind="stable")
    days, starts = np.unique(day[order], return_index=True)
    stops = np.append(starts[1:], len(order))
    ordered = table.take(pa.array(order))
    spans = {int(d): (int(a), int(b)) for d, a, b in zip(days, starts, stops, strict=True)}
    if path is None:
        return ordered, spans
    pq.write_table(ordered, path, row_group_size=STAGING_ROW_GROUP)
    return path, spans


def _compact(chunks: list, target: Path, name: str) -> None:
    """Gather the staged chunks day by day into one file per day, rows sorted by code as the store expects (a code
    lookup skips row groups by min/max). Each day is read from a few row groups per chunk: no file per chunk and
    day (small files cost more than the rows in them)."""
    files = [(c if isinstance(c, pa.Table) else pq.ParquetFile(c), spans) for c, spans in chunks]
    for day in sorted({d for _, spans in chunks for d in spans}):
        parts = []
        for source, spans in files:
            if day not in spans:
                continue
            a, b = spans[day]
            if isinstance(source, pa.Table):
                parts.append(source.slice(a, b - a))
                continue
            first, last = a // STAGING_ROW_GROUP, (b - 1) // STAGING_ROW_GROUP
            rows = source.read_row_groups(range(first, last + 1), columns=SCHEMA.names)
            parts.append(rows.slice(a - first * STAGING_ROW_GROUP, b - a))
        folder = target / f"event_date={np.datetime64(day, 'D')}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.concat_tables(parts).cast(SCHEMA).sort_by("epc")
        pq.write_table(table, folder / f"part-{name}.parquet", row_group_size=EVENT_ROW_GROUP)
    for source, _ in files:
        if not isinstance(source, pa.Table):
            source.close()


def write_events(table: pa.Table, root: Path | str, name: str) -> None:
    """Write event rows (``SCHEMA``) into the store layout under ``root/events``, one file per UTC event date."""
    _compact([_stage(table, None)], Path(root) / "events", name)


def _chunk_job(job: tuple) -> tuple:
    """One chunk of pallets, built and staged (a worker process's unit of work)."""
    seed, chunk, first, last, world, plan, t0, days, path = job
    builder, truth = _Rows(seed, chunk), []
    _chunk(builder, world, np.arange(first, last), plan, np.random.default_rng([seed, 2, chunk]), t0, days, truth)
    table = builder.table()
    source, spans = _stage(table, path)
    return source, spans, truth, table.num_rows, builder.events


def write_ground_truth(truth: list[tuple[str, str, str]], path: Path | str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "code", "party"])
        writer.writerows(truth)


def _chunk(b: _Rows, w: World, pallets: np.ndarray, plan: Plan, rng, t0: int, days: int, truth: list) -> None:
    n_pal = len(pallets)
    n_case, n_unit = n_pal * CASES_PER_PALLET, n_pal * UNITS_PER_PALLET
    kind = np.array([plan.kind_of.get(int(p), "") for p in pallets], dtype=object)
    product = rng.integers(0, len(w.product_ids), n_pal)
    # Plants that need a particular kind of product: whole-pack OTC-or-rx (not controlled) drugs, rx for licences.
    plain = np.flatnonzero(~w.product_controlled & (w.product_units == 1))
    rx_plain = np.flatnonzero(w.product_rx & ~w.product_controlled)
    for k, pool in (("unlicensed_receiver", rx_plain), ("unusual_volume", plain), ("duplicate_sale", plain),
                    ("unreceived_sale", plain), ("expired_sale", plain), ("destroyed_reappears", plain)):  # fmt: skip
        sel = kind == k
        if sel.any() and len(pool):
            product[sel] = rng.choice(pool, sel.sum())
    maker = w.manufacturers[w.product_maker[product]]
    unit_pid, case_pid, pal_pid = (w.ids_at(lvl)[product] for lvl in (0, 1, 2))

    # Times (µs since epoch, UTC). Manufacture leaves ≥ 100 days of window for the whole chain.
    mfg = t0 + rng.integers(0, max(1, days - 100), n_pal) * DAY + rng.integers(8 * HOUR, 18 * HOUR, n_pal)
    short = (rng.random(n_pal) < SHORT_DATED_SHARE) | (kind == "expired_sale")
    mfg_day = (mfg + CHINA) // DAY
    expiry_day = mfg_day + np.where(short, 95, 730)
    expiry = np.datetime_as_string(expiry_day.astype("datetime64[D]"))
    lot = np.char.add("L", (pallets + 1_000_000).astype(str))
    ship_m = mfg + rng.integers(1 * DAY, 5 * DAY, n_pal)
    recv_w = ship_m + rng.integers(36 * HOUR, 4 * DAY, n_pal)
    wholesaler = w.wholesalers[rng.integers(0, len(w.wholesalers), n_pal)]

    # Codes: serials are global so every code is unique across chunks.
    pal_code = _codes(pal_pid, pallets)
    case_idx = np.repeat(pallets * CASES_PER_PALLET, CASES_PER_PALLET) + np.tile(np.arange(CASES_PER_PALLET), n_pal)
    case_code = _codes(np.repeat(case_pid, CASES_PER_PALLET), case_idx)
    unit_code = _codes(
        np.repeat(unit_pid, UNITS_PER_PALLET),
        np.arange(pallets[0] * UNITS_PER_PALLET, (pallets[-1] + 1) * UNITS_PER_PALLET),
    )
    case_pal = np.repeat(np.arange(n_pal), CASES_PER_PALLET)  # case → pallet (chunk-local)
    unit_case = np.repeat(np.arange(n_case), UNITS_PER_CASE)  # unit → case
    unit_pal = case_pal[unit_case]

    # Commissioning 赋码: one event per case's worth of units; packing 包装关联 units → case → pallet.
    ev = b.new_events(n_case)
    c_time = np.repeat(mfg, CASES_PER_PALLET)
    b.add(event=ev.take(unit_case), time=np.repeat(c_time, UNITS_PER_CASE), epc=unit_code, role="epc",
          biz_step="commissioning", disposition="active", biz_location=np.repeat(maker, UNITS_PER_PALLET),
          lot=np.repeat(lot, UNITS_PER_PALLET), expiry=np.repeat(expiry, UNITS_PER_PALLET))  # fmt: skip
    ev = b.new_events(n_case)
    loc_case = np.repeat(maker, CASES_PER_PALLET)
    b.add(event=ev, time=c_time + HOUR, epc=case_code, role="parent", biz_step="packing",
          disposition="in_progress", biz_location=loc_case, parent_id=case_code)  # fmt: skip
    b.add(event=ev.take(unit_case), time=np.repeat(c_time + HOUR, UNITS_PER_CASE), epc=unit_code, role="child",
          biz_step="packing", disposition="in_progress", biz_location=np.repeat(maker, UNITS_PER_PALLET),
          parent_id=case_code.take(unit_case))  # fmt: skip
    ev = b.new_events(n_pal)
    b.add(event=ev, time=mfg + 2 * HOUR, epc=pal_code, role="parent", biz_step="packing",
          disposition="in_progress", biz_location=maker, parent_id=pal_code)  # fmt: skip
    b.add(event=ev.take(case_pal), time=np.repeat(mfg + 2 * HOUR, CASES_PER_PALLET), epc=case_code,
          role="child", biz_step="packing", disposition="in_progress", biz_location=loc_case,
          parent_id=pal_code.take(case_pal))  # fmt: skip

    # Manufacturer → wholesaler 出库/入库, by pallet.
    _move(b, pal_code, ship_m, recv_w, maker, wholesaler)

    # Wholesaler → pharmacy/hospital, by case; prescription drugs only to parties licensed for them.
    dest, is_hosp = _destinations(w, product[case_pal], rng)
    ship_c = np.repeat(recv_w, CASES_PER_PALLET) + rng.integers(DAY, 20 * DAY, n_case)
    recv_c = ship_c + rng.integers(8 * HOUR, 2 * DAY, n_case)
    case_kind = kind[case_pal]
    first_case = np.tile(np.arange(CASES_PER_PALLET) == 0, n_pal)
    # unusual_volume: three cases of the pallet go to one pharmacy and sell out within one week.
    spike = (case_kind == "unusual_volume") & (np.tile(np.arange(CASES_PER_PALLET), n_pal) < 3)
    spike_party = w.retailers[np.flatnonzero(w.retail_rx)][rng.integers(0, w.retail_rx.sum(), n_pal)]
    dest[spike], is_hosp[spike] = spike_party[case_pal[spike]], False
    recv_c[spike] = np.repeat(recv_c[spike][::3], 3)
    # unlicensed_receiver: the first case goes to a party whose licence does not cover prescription drugs.
    bad = (case_kind == "unlicensed_receiver") & first_case
    dest[bad], is_hosp[bad] = w.unlicensed[rng.integers(0, len(w.unlicensed), bad.sum())], False
    wh_case = np.repeat(wholesaler, CASES_PER_PALLET)
    returned = (rng.random(n_case) < 0.02) & (case_kind == "")
    keep = ~returned
    _move(b, case_code, ship_c, recv_c, wh_case, dest)
    back_ship = recv_c + rng.integers(DAY, 10 * DAY, n_case)
    _move(b, case_code.filter(pa.array(returned)), back_ship[returned], back_ship[returned] + 6 * HOUR,
          dest[returned], wh_case[returned], disposition="returned")  # fmt: skip
    transit = (case_kind == "impossible_transit") & first_case
    if transit.any():
        far = w.far[rng.integers(0, len(w.far), transit.sum())]
        t_far = ship_c[transit] + rng.integers(HOUR // 2, 2 * HOUR, transit.sum())
        fev = b.new_events(int(transit.sum()))
        codes = case_code.filter(pa.array(transit))
        b.add(event=fev, time=t_far, epc=codes, role="epc", biz_step="receiving", disposition="in_progress",
              biz_location=far, source_owner=wh_case[transit], destination_owner=far)  # fmt: skip
        _truth(truth, "impossible_transit", codes, far)
    _truth(truth, "unlicensed_receiver", case_code.filter(pa.array(bad)), dest[bad])

    # Unit fates: sold (88 %), destroyed (2 %), in stock (10 %); returned cases' units stay unsold.
    u_kind = kind[unit_pal]
    first_unit = np.tile(np.arange(UNITS_PER_PALLET) == 0, n_pal)
    fate = rng.choice(np.array([0, 1, 2], np.int8), n_unit, p=[0.88, 0.02, 0.10])
    fate[~keep[unit_case]] = 2
    plant_unit = first_unit & (u_kind != "")
    fate[plant_unit & (u_kind == "unreceived_sale")] = 2
    fate[plant_unit & (u_kind == "destroyed_reappears")] = 1
    fate[plant_unit & np.isin(u_kind, ["duplicate_sale", "expired_sale"])] = 0
    fate[spike[unit_case]] = 0
    seller, hosp = dest[unit_case], is_hosp[unit_case]
    recv_u = recv_c[unit_case]
    sale = recv_u + rng.integers(HOUR, 50 * DAY, n_unit)
    week = (recv_u + CHINA) // (7 * DAY) + 1  # spike sales: the local week after receipt
    sale = np.where(spike[unit_case], week * 7 * DAY - CHINA + rng.integers(HOUR, 7 * DAY - HOUR, n_unit), sale)
    exp_unit = expiry_day[unit_pal]
    late = plant_unit & (u_kind == "expired_sale")
    sale[late] = (exp_unit[late] + rng.integers(1, 20, late.sum())) * DAY - CHINA + 10 * HOUR
    units = w.product_units[product[unit_pal]]
    sold = np.flatnonzero(fate == 0)
    _sales(b, unit_code, sold, sale, seller, hosp, units, rng)
    destroyed = np.flatnonzero(fate == 1)
    t_destroy = recv_u[destroyed] + rng.integers(HOUR, 30 * DAY, len(destroyed))
    ev = b.new_events(len(destroyed))
    b.add(event=ev, time=t_destroy, epc=unit_code.take(destroyed), role="epc", biz_step="destroying",
          disposition="destroyed", biz_location=seller[destroyed])  # fmt: skip

    # Unit-level plants on each planted pallet's first unit.
    def plant(kind_name, when, party):
        idx = np.flatnonzero(plant_unit & (u_kind == kind_name))
        if len(idx):
            who = party(idx)
            _sales(b, unit_code, idx, when(idx), who, np.isin(who, w.hospitals), units, rng, planted=True)
            _truth(truth, kind_name, unit_code.take(idx), who)

    plant("duplicate_sale", lambda i: sale[i] + rng.integers(DAY, 10 * DAY, len(i)), lambda i: seller[i])
    others = np.concatenate([w.retailers, w.hospitals])

    def other(i):  # a seller that never received the pack
        pick, next_pick = others[i % len(others)], others[(i + 1) % len(others)]
        return np.where(pick == seller[i], next_pick, pick)

    plant("unreceived_sale", lambda i: recv_u[i] + rng.integers(DAY, 5 * DAY, len(i)), other)
    idx = np.flatnonzero(late)
    _truth(truth, "expired_sale", unit_code.take(idx), seller[idx])
    after_destruction = lambda i: t_destroy[np.searchsorted(destroyed, i)] + rng.integers(DAY, 10 * DAY, len(i))  # noqa: E731
    plant("destroyed_reappears", after_destruction, lambda i: seller[i])
    volume = np.flatnonzero(kind == "unusual_volume")
    _truth(truth, "unusual_volume", pa.array(unit_pid[volume]), spike_party[volume])


def _truth(truth: list, kind: str, codes: pa.Array, parties) -> None:
    truth.extend((kind, c, str(p)) for c, p in zip(codes.to_pylist(), parties, strict=True))


def _move(b: _Rows, codes: pa.Array, t_ship, t_recv, source, dest, disposition: str = "in_progress") -> None:
    """出库 + 入库 of ``codes`` from ``source`` to ``dest`` (one event each per code)."""
    n = len(codes)
    b.add(event=b.new_events(n), time=t_ship, epc=codes, role="epc", biz_step="shipping", disposition="in_transit",
          biz_location=source, source_owner=source, destination_owner=dest)  # fmt: skip
    b.add(event=b.new_events(n), time=t_recv, epc=codes, role="epc", biz_step="receiving", disposition=disposition,
          biz_location=dest, source_owner=source, destination_owner=dest)  # fmt: skip


def _destinations(w: World, product: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """A licensed receiver per case: controlled drugs to hospitals, prescription drugs to rx-licensed parties."""
    n = len(product)
    rx_parties = np.concatenate([w.retailers[w.retail_rx], w.hospitals])
    all_parties = np.concatenate([w.retailers, w.hospitals])
    n_rx_retail, n_retail = int(w.retail_rx.sum()), len(w.retailers)
    pick_all = rng.integers(0, len(all_parties), n)
    pick_rx = rng.integers(0, len(rx_parties), n)
    pick_h = rng.integers(0, len(w.hospitals), n)
    controlled, rx = w.product_controlled[product], w.product_rx[product]
    dest = np.where(controlled, w.hospitals[pick_h], np.where(rx, rx_parties[pick_rx], all_parties[pick_all]))
    hosp = controlled | np.where(rx, pick_rx >= n_rx_retail, pick_all >= n_retail)
    return dest, hosp


def _sales(b: _Rows, codes: pa.Array, idx, when, seller, hosp, units, rng, planted: bool = False) -> None:
    """零售/发药 of units ``idx``: a whole pack in one scan, a split pack (units > 1) in m scans adding up to it.

    ``when``/``seller``/``hosp`` are indexed like ``idx`` for plants, else by unit."""
    if not planted:
        when, seller, hosp = when[idx], seller[idx], hosp[idx]
    cap = units[idx]
    scans = np.where(cap > 1, rng.integers(1, cap + 1), 1)
    if planted:  # a planted extra sale: one scan of one split unit, or the whole pack
        scans = np.ones(len(idx), np.int64)
    row_unit = np.repeat(np.arange(len(idx)), scans)
    nth = np.arange(len(row_unit)) - np.repeat(np.cumsum(scans) - scans, scans)
    last = nth == np.repeat(scans, scans) - 1
    q_cap = np.repeat(cap, scans)
    quantity = np.where(q_cap > 1, np.where(last, q_cap - nth, 1), np.nan)
    step = np.where(np.repeat(hosp, scans), "dispensing", "retail_selling")
    disposition = np.where(step == "retail_selling", "retail_sold", np.where(last, "dispensed", "partially_dispensed"))
    times = np.repeat(when, scans) + nth * rng.integers(HOUR, DAY, len(row_unit))
    for name in ("retail_selling", "dispensing"):
        sel = step == name
        if sel.any():
            b.add(event=b.new_events(int(sel.sum())), time=times[sel], epc=codes.take(pa.array(idx[row_unit[sel]])),
                  role="epc", biz_step=name, disposition=disposition[sel], biz_location=np.repeat(seller, scans)[sel],
                  quantity=pa.array(quantity[sel], from_pandas=True))  # fmt: skip
