"""Anomaly scans 触发式追溯线索: set-based rules over the event store, the same SQL on DuckDB and Spark.

Seven rules, each one SQL statement written once (``RULES``) and run as is by either engine over the store's
Parquet files (``<root>/events/event_date=…/part-*.parquet``, one row per event × EPC):

=====================  =================  ===========================================================================
kind                   中文                what is flagged
=====================  =================  ===========================================================================
duplicate_sale         重复销售（回流药）    a code sold/dispensed twice, or a split pack (拆零) scanned past its units
unreceived_sale        无来源销售           a code sold by a party that never received it (nor its case/pallet)
unlicensed_receiver    超范围流向           a code shipped to a party whose licence does not cover the drug
expired_sale           过期销售            a code sold after its expiry date (China time)
destroyed_reappears    销毁码复现           a destroyed/decommissioned code seen again afterwards
impossible_transit     异常流转            two scans of a code too far apart for the time between them
unusual_volume         异常销量            a party's weekly sales of a product far above its own and its peers' norm
=====================  =================  ===========================================================================

Engine neutrality: the statements use only functions both engines share; those DuckDB lacks under Spark's names
(``unix_micros``; ``xxhash64``, any 64-bit hash) are DuckDB macros. Each engine only registers the inputs:
``raw_events`` (the Parquet files) and three small tables passed in from the platform database — ``products``
(药品标识码 → prescription/controlled flags, split units), ``licences`` (party → what it may receive) and
``distances`` (province pairs, km).

Places: a party is ``urn:yaojian:uscc:<统一社会信用代码>`` and characters 3–8 of a USCC are the registering
authority's GB/T 2260 division (GB 32100-2015), so every party has a province without a lookup. Distances are
great-circle distances between provincial capitals (coordinates below, public gazetteer values rounded to 0.01°);
two scans in one province count as 0 km, so impossible transit is judged between provinces only (a coarse,
documented rule: it never flags what is possible).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

KINDS = (
    "duplicate_sale",
    "unreceived_sale",
    "unlicensed_receiver",
    "expired_sale",
    "destroyed_reappears",
    "impossible_transit",
    "unusual_volume",
)
KIND_LABELS = {
    "duplicate_sale": "重复销售（回流药/克隆码）",
    "unreceived_sale": "无来源销售",
    "unlicensed_receiver": "超许可范围流向",
    "expired_sale": "过期销售",
    "destroyed_reappears": "销毁码复现",
    "impossible_transit": "异常流转（时空不可能）",
    "unusual_volume": "异常销量",
}


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Thresholds of the rules 线索阈值, which a regulator may tune: published as versions in the platform
    (:mod:`yaojian.trace.thresholds`); the defaults below are version 1. ``version`` is the published version the
    values come from (None: these defaults, outside the platform), recorded in each lead's evidence."""

    max_speed_kmh: float = 200.0  # faster than road freight or rail can carry goods door to door
    volume_min_units: int = 30  # weekly packs below this are never "unusual", whatever the ratio
    volume_ratio: float = 3.0  # at least three times the median
    # robust z-score 0.6745·(x − median)/MAD (Iglewicz & Hoaglin 1993 use 3.5; leads must be sure)
    volume_z: float = 5.0
    volume_min_history: int = 4  # weeks of own history / peers needed before a baseline counts
    version: int | None = None

    def values(self) -> dict[str, float | int]:
        """The thresholds themselves (no version), as the rules and the configuration store them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "version"}

    def sql(self) -> dict[str, str]:
        """SQL literals for the rules' ``{name}`` slots (numbers only, so the text is safe to splice)."""
        kinds = {f.name: f.type for f in dataclasses.fields(self)}
        return {n: repr(float(v)) if kinds[n] == "float" else str(int(v)) for n, v in self.values().items()}


# Provincial capitals (GB/T 2260 province code → name, latitude, longitude).
PROVINCE_CENTROIDS: dict[str, tuple[str, float, float]] = {
    "11": ("北京市", 39.90, 116.41), "12": ("天津市", 39.13, 117.20), "13": ("河北省", 38.04, 114.51),
    "14": ("山西省", 37.87, 112.55), "15": ("内蒙古自治区", 40.84, 111.75), "21": ("辽宁省", 41.80, 123.43),
    "22": ("吉林省", 43.82, 125.32), "23": ("黑龙江省", 45.80, 126.53), "31": ("上海市", 31.23, 121.47),
    "32": ("江苏省", 32.06, 118.80), "33": ("浙江省", 30.27, 120.16), "34": ("安徽省", 31.82, 117.23),
    "35": ("福建省", 26.07, 119.30), "36": ("江西省", 28.68, 115.86), "37": ("山东省", 36.65, 117.12),
    "41": ("河南省", 34.75, 113.63), "42": ("湖北省", 30.59, 114.31), "43": ("湖南省", 28.23, 112.94),
    "44": ("广东省", 23.13, 113.26), "45": ("广西壮族自治区", 22.82, 108.37), "46": ("海南省", 20.04, 110.34),
    "50": ("重庆市", 29.56, 106.55), "51": ("四川省", 30.57, 104.07), "52": ("贵州省", 26.65, 106.63),
    "53": ("云南省", 25.04, 102.71), "54": ("西藏自治区", 29.65, 91.17), "61": ("陕西省", 34.34, 108.94),
    "62": ("甘肃省", 36.06, 103.83), "63": ("青海省", 36.62, 101.78), "64": ("宁夏回族自治区", 38.49, 106.23),
    "65": ("新疆维吾尔自治区", 43.83, 87.62), "71": ("台湾省", 25.03, 121.57), "81": ("香港特别行政区", 22.32, 114.17),
    "82": ("澳门特别行政区", 22.20, 113.54),
}  # fmt: skip
EARTH_RADIUS_KM = 6371.0
PARTY_PREFIX = "urn:yaojian:uscc:"
CHINA_US = 8 * 3600 * 1_000_000
DAY_US = 86_400 * 1_000_000


def province_distance_km(a: str, b: str) -> float:
    """Great-circle (haversine) distance between two provinces' capitals."""
    if a == b:
        return 0.0
    _, lat1, lon1 = PROVINCE_CENTROIDS[a]
    _, lat2, lon2 = PROVINCE_CENTROIDS[b]
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def distances_table() -> pa.Table:
    codes = sorted(PROVINCE_CENTROIDS)
    pairs = [(a, b, province_distance_km(a, b)) for a in codes for b in codes if a != b]
    return pa.table({"p1": [p[0] for p in pairs], "p2": [p[1] for p in pairs], "km": [p[2] for p in pairs]})


PRODUCTS_SCHEMA = pa.schema(
    [("code", pa.string()), ("product", pa.string()), ("level", pa.int8()), ("rx", pa.bool_()),
     ("controlled", pa.bool_()), ("units", pa.int32())]
)  # fmt: skip
LICENCES_SCHEMA = pa.schema(
    [("party", pa.string()), ("drug_ok", pa.bool_()), ("rx_ok", pa.bool_()), ("controlled_ok", pa.bool_())]
)

# ---------------------------------------------------------------- the SQL, written once 规则

# The acting party of a row: its business location when that is a party, else the shipper/receiver.
_ACTOR = """CASE WHEN biz_location LIKE 'urn:yaojian:uscc:%' THEN biz_location
            WHEN biz_step = 'shipping' THEN source_owner
            WHEN biz_step = 'receiving' THEN destination_owner
            ELSE coalesce(source_owner, destination_owner, biz_location) END"""

BASE = f"""
CREATE OR REPLACE TEMP VIEW ev AS
SELECT event_hash, event_type, action, biz_step, role, epc, parent_id, destination_owner,
       CAST(quantity AS DOUBLE) AS quantity, expiry, unix_micros(event_time) AS tus,
       {_ACTOR} AS actor,
       CASE WHEN epc LIKE 'urn:yaojian:tracecode:%' THEN substr(epc, 23, 7) END AS pcode
FROM raw_events
WHERE {{as_of}}
"""
SALES = """
SELECT event_hash, epc, tus, actor AS party, quantity, pcode FROM ev
WHERE role = 'epc' AND biz_step IN ('retail_selling', 'dispensing')
"""
AGG = """
SELECT DISTINCT epc AS child, parent_id AS parent FROM ev
WHERE event_type = 'AggregationEvent' AND action = 'ADD' AND role = 'child' AND parent_id IS NOT NULL
"""
_EVENT = "concat({p}event_hash, '|', CAST({p}tus AS STRING), '|', coalesce({p}party, ''))"
_EVENTS = "array_sort(array_agg(" + _EVENT + "))"


def _events(prefix: str = "") -> str:
    return _EVENTS.format(p=prefix)


def _fast_legs(rows: str, key: str, p: str) -> str:
    """CTEs ``{p}span`` … ``{p}fast``: the legs between provinces of each ``key`` (over the scans in ``rows``) too
    fast for the ``max_speed_kmh`` threshold, with their distance ``km``."""
    return f"""{p}span AS (SELECT {key}, prov, min(tus) AS a, max(tus) AS b FROM {rows} GROUP BY {key}, prov),
{p}multi AS (
  SELECT s.* FROM {p}span s
  JOIN (SELECT {key} FROM {p}span GROUP BY {key} HAVING count(*) > 1) m ON m.{key} = s.{key}),
{p}overlap AS (
  SELECT DISTINCT x.{key} FROM {p}multi x JOIN {p}multi y
  ON y.{key} = x.{key} AND x.prov < y.prov AND x.a <= y.b AND y.a <= x.b),
{p}seq AS (
  SELECT l.{key}, l.prov, l.tus,
         lag(l.prov) OVER (PARTITION BY l.epc ORDER BY l.tus, l.event_hash) AS p0,
         lag(l.tus) OVER (PARTITION BY l.epc ORDER BY l.tus, l.event_hash) AS t0
  FROM {rows} l JOIN {p}overlap o ON o.{key} = l.{key}),
{p}legs AS (
  SELECT x.{key}, x.prov AS p1, y.prov AS p2, x.b AS t1, y.a AS t2 FROM {p}multi x JOIN {p}multi y
  ON y.{key} = x.{key} AND x.b < y.a
  UNION ALL
  SELECT {key}, p0 AS p1, prov AS p2, t0 AS t1, tus AS t2 FROM {p}seq WHERE p0 IS NOT NULL AND p0 <> prov),
{p}fast AS (
  SELECT l.*, d.km FROM {p}legs l JOIN distances d ON d.p1 = l.p1 AND d.p2 = l.p2
  WHERE d.km * 3600000000 > {{max_speed_kmh}} * (l.t2 - l.t1))"""


# Scans of one pack (whole = no quantity; split 拆零 = units) and when they over-sell it: scanned whole twice, whole
# and split, or split for more units than the pack holds (its product's ``cap``).
_SCAN_COUNTS = "count_if(quantity IS NULL) AS whole, count_if(quantity IS NOT NULL) AS split, sum({units}) AS units"
_OVERSOLD = "whole >= 2 OR (whole >= 1 AND split >= 1) OR units > cap"

RULES: dict[str, str] = {
    # Two passes, because a group-by on every sold code's text is the costly part at scale. The first groups the
    # sales on a 64-bit hash of the code (xxhash64) with numbers only — no code text, event hash or party. Codes
    # whose hashes collide share a group; its counts are the sums of theirs and its cap their products' smallest,
    # which can make the group look over-sold (one more candidate) but can never hide an over-sold code (counts
    # only grow — units are summed as absolute values to keep that true — and the cap only shrinks). The second
    # pass re-checks the few candidate codes by their text, with only their rows carrying the heavy columns.
    "duplicate_sale": f"""
WITH keyed AS (
  SELECT xxhash64(s.epc) AS k, {_SCAN_COUNTS.format(units="abs(quantity)")}, min(p.units) AS cap
  FROM sales s LEFT JOIN products p ON p.code = s.pcode GROUP BY xxhash64(s.epc)),
candidates AS (SELECT k FROM keyed WHERE {_OVERSOLD}),
per_code AS (
  SELECT s.epc, s.pcode, {_SCAN_COUNTS.format(units="quantity")}, count(*) AS scans, max_by(s.party, s.tus) AS party,
         min(s.party) AS other_party, min(s.tus) AS t_first, max(s.tus) AS t_last, {_events("s.")} AS events
  FROM sales s JOIN candidates c ON c.k = xxhash64(s.epc) GROUP BY s.epc, s.pcode)
SELECT 'duplicate_sale' AS kind, epc AS code, party, other_party, pcode AS product, t_first, t_last, events,
       CAST(scans AS DOUBLE) AS metric, CAST(cap AS DOUBLE) AS baseline, units AS extra, CAST(NULL AS STRING) AS ref
FROM (SELECT c.*, p.units AS cap FROM per_code c LEFT JOIN products p ON p.code = c.pcode) j
WHERE {_OVERSOLD}""",
    # A sale is covered when the seller received the code itself, its case or its pallet (two aggregation levels).
    "unreceived_sale": f"""
WITH recv AS (SELECT DISTINCT epc, actor AS party FROM ev WHERE biz_step = 'receiving'),
paths AS (
  SELECT s.event_hash, s.epc, s.tus, s.party, s.pcode, a1.parent AS p1, a2.parent AS p2
  FROM sales s LEFT JOIN agg a1 ON a1.child = s.epc LEFT JOIN agg a2 ON a2.child = a1.parent),
checked AS (
  SELECT p.*, CASE WHEN r0.epc IS NULL AND r1.epc IS NULL AND r2.epc IS NULL THEN 0 ELSE 1 END AS got
  FROM paths p
  LEFT JOIN recv r0 ON r0.epc = p.epc AND r0.party = p.party
  LEFT JOIN recv r1 ON r1.epc = p.p1 AND r1.party = p.party
  LEFT JOIN recv r2 ON r2.epc = p.p2 AND r2.party = p.party),
candidates AS (SELECT DISTINCT event_hash, epc FROM checked WHERE got = 0),
sale_ok AS (
  SELECT c.event_hash, c.epc, max(k.got) AS got FROM candidates c
  JOIN checked k ON k.event_hash = c.event_hash AND k.epc = c.epc GROUP BY c.event_hash, c.epc),
bad AS (SELECT s.* FROM sales s JOIN sale_ok o ON o.event_hash = s.event_hash AND o.epc = s.epc WHERE o.got = 0)
SELECT 'unreceived_sale' AS kind, epc AS code, party, CAST(NULL AS STRING) AS other_party, max(pcode) AS product,
       min(tus) AS t_first, max(tus) AS t_last, {_events()} AS events, CAST(count(*) AS DOUBLE) AS metric,
       CAST(NULL AS DOUBLE) AS baseline, CAST(NULL AS DOUBLE) AS extra, CAST(NULL AS STRING) AS ref
FROM bad GROUP BY epc, party""",
    # The shipped code's product, or for a code the registry does not know (an SSCC pallet) its children's.
    # metric: 3 = receiver holds no drug licence, 2 = controlled drug, 1 = prescription drug.
    "unlicensed_receiver": f"""
WITH ship AS (
  SELECT event_hash, epc, tus, actor AS source, destination_owner AS party, pcode FROM ev
  WHERE biz_step = 'shipping' AND role = 'epc' AND destination_owner IS NOT NULL),
items AS (
  SELECT s.*, s.pcode AS item FROM ship s
  UNION ALL
  SELECT s.*, substr(a.child, 23, 7) AS item FROM ship s
  JOIN agg a ON a.parent = s.epc LEFT JOIN products p0 ON p0.code = s.pcode
  WHERE p0.code IS NULL AND a.child LIKE 'urn:yaojian:tracecode:%'),
violations AS (
  SELECT i.event_hash, i.epc, i.tus, i.source, i.party, min(p.product) AS product,
         max(CASE WHEN NOT l.drug_ok THEN 3 WHEN p.controlled AND NOT l.controlled_ok THEN 2 ELSE 1 END) AS why
  FROM items i JOIN products p ON p.code = i.item JOIN licences l ON l.party = i.party
  WHERE NOT l.drug_ok OR (p.rx AND NOT l.rx_ok) OR (p.controlled AND NOT l.controlled_ok)
  GROUP BY i.event_hash, i.epc, i.tus, i.source, i.party)
SELECT 'unlicensed_receiver' AS kind, epc AS code, party, min(source) AS other_party, min(product) AS product,
       min(tus) AS t_first, max(tus) AS t_last, {_events()} AS events, CAST(max(why) AS DOUBLE) AS metric,
       CAST(NULL AS DOUBLE) AS baseline, CAST(NULL AS DOUBLE) AS extra, CAST(NULL AS STRING) AS ref
FROM violations GROUP BY epc, party""",
    # Expiry is a date in China time: the last day of use. Only expiries before the last sale can be broken.
    "expired_sale": f"""
WITH expiry AS (
  SELECT epc, min(expiry) AS expiry,
         FLOOR(unix_micros(CAST(TRY_CAST(min(expiry) AS DATE) AS TIMESTAMP)) / {DAY_US}) AS last_day
  FROM ev WHERE role = 'epc' AND biz_step = 'commissioning' AND expiry IS NOT NULL GROUP BY epc),
late AS (
  SELECT s.*, e.expiry FROM sales s JOIN expiry e ON e.epc = s.epc
  WHERE FLOOR((s.tus + {CHINA_US}) / {DAY_US}) > e.last_day)
SELECT 'expired_sale' AS kind, epc AS code, max_by(party, tus) AS party, CAST(NULL AS STRING) AS other_party,
       max(pcode) AS product, min(tus) AS t_first, max(tus) AS t_last, {_events()} AS events,
       CAST(count(*) AS DOUBLE) AS metric, CAST(NULL AS DOUBLE) AS baseline, CAST(NULL AS DOUBLE) AS extra,
       max(expiry) AS ref
FROM late GROUP BY epc""",
    # Any row of the code after its first destruction, except further destruction records.
    "destroyed_reappears": f"""
WITH dead AS (
  SELECT epc, min(tus) AS t_dead, min_by(event_hash, tus) AS h_dead, min_by(actor, tus) AS a_dead FROM ev
  WHERE biz_step IN ('destroying', 'decommissioning') GROUP BY epc),
again AS (
  SELECT e.event_hash, e.epc, e.tus, e.actor AS party, e.pcode, d.t_dead, d.h_dead, d.a_dead
  FROM ev e JOIN dead d ON d.epc = e.epc
  WHERE e.tus > d.t_dead AND (e.biz_step IS NULL OR e.biz_step NOT IN ('destroying', 'decommissioning')))
SELECT 'destroyed_reappears' AS kind, epc AS code, min_by(party, tus) AS party, max(a_dead) AS other_party,
       max(pcode) AS product, max(t_dead) AS t_first, max(tus) AS t_last, {_events()} AS events,
       CAST(count(*) AS DOUBLE) AS metric, CAST(NULL AS DOUBLE) AS baseline, CAST(NULL AS DOUBLE) AS extra,
       concat(max(h_dead), '|', CAST(max(t_dead) AS STRING), '|', coalesce(max(a_dead), '')) AS ref
FROM again GROUP BY epc""",
    # Per code and province the first and last scan; provinces whose spans do not overlap are compared span to span
    # (the closest pair of their scans); codes that went back and forth (overlapping spans, rare) are walked scan
    # by scan. By the triangle inequality both find a too-fast leg exactly when one exists. Worst leg reported.
    # A first pass groups codes by a 64-bit hash (xxhash64 on Spark, DuckDB's hash), far cheaper than the strings;
    # a collision only merges two codes' scans, which can add candidate legs but never hide one, so the second pass
    # re-checks the few candidate codes by their text.
    "impossible_transit": f"""
WITH loc AS (
  SELECT epc, xxhash64(epc) AS k, tus, event_hash, actor AS party, substr(actor, 20, 2) AS prov FROM ev
  WHERE actor LIKE 'urn:yaojian:uscc:%'),
{_fast_legs("loc", "k", "h_")},
exact AS (SELECT l.* FROM loc l JOIN (SELECT DISTINCT k FROM h_fast) c ON c.k = l.k),
{_fast_legs("exact", "epc", "x_")},
worst AS (
  SELECT * FROM (
    SELECT f.*, row_number() OVER (PARTITION BY f.epc ORDER BY (f.t2 - f.t1) / f.km, f.t1, f.p1, f.p2) AS rn
    FROM x_fast f) r
  WHERE rn = 1),
ends AS (
  SELECT w.epc, min(l.event_hash) AS event_hash, l.tus, min(l.party) AS party, 1 AS leg FROM worst w
  JOIN exact l ON l.epc = w.epc AND l.tus = w.t1 AND l.prov = w.p1 GROUP BY w.epc, l.tus
  UNION ALL
  SELECT w.epc, min(l.event_hash) AS event_hash, l.tus, min(l.party) AS party, 2 AS leg FROM worst w
  JOIN exact l ON l.epc = w.epc AND l.tus = w.t2 AND l.prov = w.p2 GROUP BY w.epc, l.tus)
SELECT 'impossible_transit' AS kind, e.epc AS code, max(CASE WHEN e.leg = 2 THEN e.party END) AS party,
       max(CASE WHEN e.leg = 1 THEN e.party END) AS other_party,
       CASE WHEN e.epc LIKE 'urn:yaojian:tracecode:%' THEN substr(e.epc, 23, 7) END AS product,
       max(w.t1) AS t_first, max(w.t2) AS t_last, {_events("e.")} AS events, max(w.km) AS metric,
       CAST(max(w.t2 - w.t1) AS DOUBLE) / 3600000000 AS baseline, CAST({{max_speed_kmh}} AS DOUBLE) AS extra,
       concat(max(w.p1), '>', max(w.p2)) AS ref
FROM ends e JOIN worst w ON w.epc = e.epc GROUP BY e.epc""",
    # Packs sold per party, product and China-time week against the product's sellers that week and, where the
    # party has a few weeks of history, against its own weeks too (a big hospital is not unusual for being big):
    # robust z-score on the median and the median absolute deviation (MAD, floored at one pack).
    "unusual_volume": f"""
WITH weekly AS (
  SELECT party, pcode, CAST(FLOOR((tus + {CHINA_US}) / {7 * DAY_US}) AS BIGINT) AS week, count(DISTINCT epc) AS n
  FROM sales WHERE pcode IS NOT NULL AND party IS NOT NULL GROUP BY 1, 2, 3),
own AS (SELECT party, pcode, median(n) AS m, count(*) AS weeks FROM weekly GROUP BY party, pcode),
own_mad AS (
  SELECT w.party, w.pcode, median(abs(w.n - o.m)) AS mad FROM weekly w
  JOIN own o ON o.party = w.party AND o.pcode = w.pcode GROUP BY w.party, w.pcode),
peer AS (SELECT pcode, week, median(n) AS m, count(*) AS sellers FROM weekly GROUP BY pcode, week),
peer_mad AS (
  SELECT w.pcode, w.week, median(abs(w.n - p.m)) AS mad FROM weekly w
  JOIN peer p ON p.pcode = w.pcode AND p.week = w.week GROUP BY w.pcode, w.week),
scored AS (
  SELECT w.*, o.m AS own_m, o.weeks, 0.6745 * (w.n - o.m) / greatest(om.mad, 1) AS z_own,
         p.m AS peer_m, p.sellers, 0.6745 * (w.n - p.m) / greatest(pm.mad, 1) AS z_peer
  FROM weekly w
  JOIN own o ON o.party = w.party AND o.pcode = w.pcode JOIN own_mad om ON om.party = w.party AND om.pcode = w.pcode
  JOIN peer p ON p.pcode = w.pcode AND p.week = w.week JOIN peer_mad pm ON pm.pcode = w.pcode AND pm.week = w.week
  WHERE w.n >= {{volume_min_units}}),
flagged AS (
  SELECT * FROM scored
  WHERE sellers >= {{volume_min_history}} AND n >= {{volume_ratio}} * peer_m AND z_peer >= {{volume_z}}
    AND (weeks < {{volume_min_history}} OR (n >= {{volume_ratio}} * own_m AND z_own >= {{volume_z}})))
SELECT 'unusual_volume' AS kind, f.pcode AS code, f.party, CAST(NULL AS STRING) AS other_party, f.pcode AS product,
       min(s.tus) AS t_first, max(s.tus) AS t_last, {_events("s.")} AS events, CAST(max(f.n) AS DOUBLE) AS metric,
       CAST(max(CASE WHEN f.weeks >= {{volume_min_history}} THEN f.own_m ELSE f.peer_m END) AS DOUBLE) AS baseline,
       CAST(greatest(max(f.z_own), max(f.z_peer)) AS DOUBLE) AS extra, CAST(max(f.week) AS STRING) AS ref
FROM flagged f JOIN sales s
  ON s.party = f.party AND s.pcode = f.pcode AND CAST(FLOOR((s.tus + {CHINA_US}) / {7 * DAY_US}) AS BIGINT) = f.week
GROUP BY f.pcode, f.party, f.week""",
}

# The shared inputs each rule reads 规则输入 (besides ``ev`` and the registry tables). One read by a single chosen rule
# is a view, so the engine pushes that rule's filter and columns into the Parquet scan; one read by several is
# materialised once.
PREPARED = {"sales": SALES, "agg": AGG}
NEEDS: dict[str, tuple[str, ...]] = {
    "duplicate_sale": ("sales",),
    "unreceived_sale": ("sales", "agg"),
    "unlicensed_receiver": ("agg",),
    "expired_sale": ("sales",),
    "destroyed_reappears": (),
    "impossible_transit": (),
    "unusual_volume": ("sales",),
}

LEAD_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("code", pa.string()),
        ("party", pa.string()),
        ("other_party", pa.string()),
        ("product", pa.string()),
        ("t_first", pa.int64()),
        ("t_last", pa.int64()),
        ("events", pa.list_(pa.string())),
        ("metric", pa.float64()),
        ("baseline", pa.float64()),
        ("extra", pa.float64()),
        ("ref", pa.string()),
    ]
)


# ---------------------------------------------------------------- engines 引擎


def _as_of_clause(as_of: dt.datetime | None) -> str:
    if as_of is None:
        return "TRUE"
    if as_of.tzinfo is None:  # a naive time is taken as UTC, like the store's event times
        as_of = as_of.replace(tzinfo=dt.UTC)
    return f"unix_micros(event_time) <= {int(as_of.timestamp() * 1_000_000)}"


def _files(root: Path) -> list[Path]:
    return sorted((root / "events").glob("event_date=*/*.parquet"))


class DuckDBEngine:
    """DuckDB in process; memory and threads capped so a scan shares the machine."""

    name = "duckdb"

    def __init__(self, memory_limit: str = "4GB", threads: int = 2, temp_directory: str | None = None):
        import duckdb

        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")
        if temp_directory:
            self.con.execute(f"SET temp_directory = '{temp_directory}'")
        self.con.execute("CREATE OR REPLACE MACRO unix_micros(t) AS epoch_us(t)")
        self.con.execute("CREATE OR REPLACE MACRO xxhash64(x) AS hash(x)")

    def load(self, root: Path, tables: dict[str, pa.Table]) -> None:
        pattern = str(root / "events" / "event_date=*" / "*.parquet").replace("'", "''")
        self.con.execute(
            f"CREATE OR REPLACE VIEW raw_events AS SELECT * FROM read_parquet('{pattern}', union_by_name = true)"
        )
        for name, table in tables.items():
            self.con.register(f"{name}_arrow", table)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")

    def sql(self, statement: str) -> None:
        self.con.execute(statement)

    def materialise(self, name: str, query: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}")

    def arrow(self, query: str) -> pa.Table:
        return self.con.sql(query).to_arrow_table()

    def close(self) -> None:
        self.con.close()


def spark_session(memory: str = "2g", cores: int = 2):
    """One local-mode SparkSession per process (``getOrCreate``), with the settings the scans rely on."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("yaojian-trace")
        .config("spark.driver.memory", memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(4 * cores))
        .config("spark.sql.session.timeZone", "UTC")
        # Sizes of cached intermediate tables are estimated low; a wrong broadcast of a big one runs out of memory.
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        .getOrCreate()
    )
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # the session may predate us
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkEngine:
    """Apache Spark (PySpark) over the same Parquet layout; local mode unless the session says otherwise."""

    name = "spark"

    def __init__(self, spark=None):
        self.spark = spark or spark_session()
        self.cached: list[str] = []

    def load(self, root: Path, tables: dict[str, pa.Table]) -> None:
        events = str(root / "events")
        self.spark.read.option("basePath", events).parquet(events).createOrReplaceTempView("raw_events")
        for name, table in tables.items():
            self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def sql(self, statement: str) -> None:
        self.spark.sql(statement)

    def materialise(self, name: str, query: str) -> None:
        df = self.spark.sql(query).cache()
        df.createOrReplaceTempView(name)
        self.cached.append(name)

    def arrow(self, query: str) -> pa.Table:
        return self.spark.sql(query).toArrow()

    def close(self) -> None:
        for name in self.cached:
            self.spark.catalog.uncacheTable(name)
            self.spark.catalog.dropTempView(name)


def _table(rows: pa.Table | list[dict] | None, schema: pa.Schema) -> pa.Table:
    if rows is None:
        return schema.empty_table()
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    return table.select(schema.names).cast(schema)


# ---------------------------------------------------------------- the scan 扫描


def run_scan(
    root: Path | str,
    *,
    engine: str = "duckdb",
    as_of: dt.datetime | None = None,
    products: pa.Table | list[dict] | None = None,
    licences: pa.Table | list[dict] | None = None,
    kinds: tuple[str, ...] = KINDS,
    thresholds: Thresholds | None = None,
    session=None,
    timings: dict | None = None,
    **engine_options,
) -> pa.Table:
    """Run the rules ``kinds`` (default all) over the store at ``root``; returns one row per lead (see
    :data:`LEAD_COLUMNS`).

    ``products``/``licences`` default to the platform registry (:func:`yaojian.trace.leads.registry_tables`) and
    ``thresholds`` to the published version (:func:`yaojian.trace.thresholds.active_thresholds`) when Django is
    configured and no tables are passed, else to empty tables (then the licence rule finds nothing and split packs
    count as whole ones) and the default thresholds. ``session`` is an existing SparkSession; ``timings`` receives
    seconds per rule, and ``prepare`` for the shared inputs."""
    import time

    root = Path(root)
    if not _files(root):
        return finish(LEAD_SCHEMA.empty_table(), Thresholds())
    if products is None and licences is None:
        products, licences, published = _platform()
        thresholds = thresholds or published
    thresholds = thresholds or Thresholds()
    tables = {
        "products": _table(products, PRODUCTS_SCHEMA),
        "licences": _table(licences, LICENCES_SCHEMA),
        "distances": distances_table(),
    }
    runner = SparkEngine(session) if engine == "spark" else DuckDBEngine(**engine_options)
    try:
        started = time.perf_counter()
        runner.load(root, tables)
        runner.sql(BASE.format(as_of=_as_of_clause(as_of)))
        readers = collections.Counter(name for kind in kinds for name in NEEDS[kind])
        for name, count in readers.items():
            if count > 1:
                runner.materialise(name, PREPARED[name])
            else:
                runner.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {PREPARED[name]}")
        if timings is not None:
            timings["prepare"] = time.perf_counter() - started
        parts = [LEAD_SCHEMA.empty_table()]
        literals = thresholds.sql()
        for kind in kinds:
            started = time.perf_counter()
            parts.append(_table(runner.arrow(RULES[kind].format(**literals)), LEAD_SCHEMA))
            if timings is not None:
                timings[kind] = time.perf_counter() - started
    finally:
        runner.close()
    return finish(pa.concat_tables(parts), thresholds)


def _platform() -> tuple[pa.Table | None, pa.Table | None, Thresholds | None]:
    """The registry tables and the published thresholds, when the platform (Django) is configured."""
    from django.conf import settings

    if not settings.configured:
        return None, None, None
    from .leads import registry_tables
    from .thresholds import active_thresholds

    return *registry_tables(), active_thresholds()


LEAD_COLUMNS = ("kind", "code", "party", "other_party", "product", "first_time", "last_time", "evidence", "key")


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    moment = dt.datetime.fromtimestamp(micros / 1_000_000, dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    return moment.isoformat()


def _province(party: str | None) -> str | None:
    if not party or not party.startswith(PARTY_PREFIX):
        return None
    entry = PROVINCE_CENTROIDS.get(party[len(PARTY_PREFIX) + 2 : len(PARTY_PREFIX) + 4])
    return entry[0] if entry else None


def _event(text: str) -> dict:
    event_hash, micros, party = text.split("|", 2)
    return {"event_hash": event_hash, "time": _iso(int(micros)), "party": party or None, "place": _province(party)}


def _evidence(row: dict, thresholds: Thresholds) -> dict:
    """The evidence JSON of one lead: its events (hash, time, party, place), what the rule measured and against
    which thresholds (their published version, when they come from the platform)."""
    kind = row["kind"]
    evidence = {"kind": kind, "label": KIND_LABELS[kind], "events": [_event(e) for e in row["events"] or []]}
    if thresholds.version is not None:
        evidence["thresholds_version"] = thresholds.version
    if row["product"]:
        evidence["product_code"] = row["product"]
    metric, baseline, extra, ref = row["metric"], row["baseline"], row["extra"], row["ref"]
    if kind == "duplicate_sale":
        evidence |= {"scans": int(metric), "units_per_pack": baseline, "units_scanned": extra}
    elif kind == "unlicensed_receiver":
        evidence["reason"] = {
            3: "收货方无药品经营/使用许可",
            2: "收货方许可不含麻醉/精神药品",
            1: "收货方许可不含处方药",
        }[int(metric)]
    elif kind == "expired_sale":
        evidence["expiry"] = ref
    elif kind == "destroyed_reappears":
        evidence["destroyed"] = _event(ref)
    elif kind == "impossible_transit":
        hours = baseline
        evidence |= {"km": round(metric, 1), "hours": round(hours, 3), "max_kmh": extra,
                     "kmh": round(metric / hours, 1) if hours else None,
                     "provinces": [PROVINCE_CENTROIDS[p][0] for p in ref.split(">")]}  # fmt: skip
    elif kind == "unusual_volume":
        week_start = int(ref) * 7 * DAY_US - CHINA_US
        evidence |= {"packs": int(metric), "baseline_median": baseline, "robust_z": round(extra, 2),
                     "week_start": _iso(week_start), "min_packs": thresholds.volume_min_units,
                     "min_ratio": thresholds.volume_ratio, "min_z": thresholds.volume_z,
                     "min_history_weeks": thresholds.volume_min_history}  # fmt: skip
    return evidence


def lead_key(kind: str, code: str, party: str | None, extra: str = "") -> str:
    """Identity of a lead across scans: same kind, code, party (and week for volumes) → same lead."""
    return hashlib.sha256(f"{kind}\x1f{code}\x1f{party or ''}\x1f{extra}".encode()).hexdigest()[:40]


def finish(raw: pa.Table, thresholds: Thresholds) -> pa.Table:
    """Order leads and turn the rules' columns into evidence JSON and a stable key (per lead, a small table)."""
    raw = raw.sort_by([("kind", "ascending"), ("code", "ascending"), ("party", "ascending")])
    rows = raw.to_pylist()
    evidence = [json.dumps(_evidence(r, thresholds), ensure_ascii=False, sort_keys=True) for r in rows]
    keys = [lead_key(r["kind"], r["code"], r["party"], r["ref"] if r["kind"] == "unusual_volume" else "") for r in rows]
    ts = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "kind": raw["kind"],
            "code": raw["code"],
            "party": raw["party"],
            "other_party": raw["other_party"],
            "product": raw["product"],
            "first_time": pc.cast(raw["t_first"], ts),
            "last_time": pc.cast(raw["t_last"], ts),
            "evidence": pa.array(evidence, pa.string()),
            "key": pa.array(keys, pa.string()),
        }
    )
