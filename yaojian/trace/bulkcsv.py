"""Bulk path for trace data set CSV 追溯数据集批量导入: parse, check, hash and flatten in DuckDB, set-based.

The row-by-row path (:func:`yaojian.trace.datasets.parse_csv` → :func:`yaojian.trace.eventhash.event_hash`) costs
tens of microseconds per event in Python. This path does the same for a whole file in a few SQL statements:
DuckDB reads the CSV, checks every row against the plain shape of the data set, builds each event's CBV 2.0
pre-hash string (the same text :func:`yaojian.trace.eventhash.prehash_string` builds for the event the row maps
to — the tests compare both paths event by event) and hashes it with SHA-256.

It takes a file only when every row has the plain shape: a step of :data:`~yaojian.trace.datasets.STEPS`, 20-digit
药品追溯码 (``8`` + 19 digits), ``YYYY-MM-DD HH:MM:SS`` China time, normalised 统一社会信用代码 (the distinct values
checked with GB 32100), whole positive quantities, lot numbers and expiry dates whose canonical hash form is the
text itself. Anything else — GBK files, GS1 codes, other time forms, any bad row — returns ``None`` and the caller
uses the row-by-row path, which also produces the row/column/reason report of a refused file.
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from yaojian.core.identifiers import check_uscc

from .codes import PRODUCT_ID_LENGTH, CodeError, parse_drug_trace_code
from .datasets import CBVMDA, COLUMNS, PARTY_URN, STEPS
from .epcis import CBV_WEB, UNITS_EXTENSION
from .eventhash import HASH_VERSION
from .store import COLUMNS as STORE_COLUMNS
from .store import TRACE_CODE_URN

CODE = r"^8[0-9]{19}$"
TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
USCC = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
# Lot numbers hashed as written: a plain integer, or text that is neither a number nor a URI/CURIE.
LOT_AS_IS = r"^([1-9][0-9]*|[A-Za-z0-9_\-]*[A-Za-z_\-][A-Za-z0-9_\-]*)$"
HEADER_BYTES = 4096  # the header line is read from this much of the file's start
SPLIT_YES = ("是", "Y", "y", "1", "true")


@dataclass
class BulkCsv:
    relation: str  # DuckDB table with the store rows
    events: int
    in_file_duplicates: int


def _steps_sql() -> str:
    rows = []
    for name, m in STEPS.items():
        disposition = f"'{m.disposition}'" if m.disposition else "NULL"
        counterpart = f"'{m.counterpart_is}'" if m.counterpart_is else "NULL"
        rows.append(f"('{name}', '{m.event_type}', '{m.action}', '{m.biz_step}', {disposition}, {counterpart})")
    return "SELECT * FROM (VALUES " + ", ".join(rows) + ") s(name, event_type, action, biz_step, disposition, cp)"


def load(con, source: bytes | Path, ingest_id: str, registry=None) -> BulkCsv | None:
    """Store rows of a plain-shaped CSV as DuckDB table ``bulk_rows``; ``None`` when the file needs the slow path.

    A file on disk is read by DuckDB in place (no copy through Python); uploaded bytes go through a temporary file.
    DuckDB refuses bytes that are not UTF-8, and then the slow path decodes (GBK, …) and reports."""
    if isinstance(source, Path):
        with open(source, "rb") as fh:
            head = fh.read(HEADER_BYTES)
        return _load_if_plain(con, head, str(source), ingest_id, registry)
    fd, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(source)
        return _load_if_plain(con, source[:HEADER_BYTES], path, ingest_id, registry)
    finally:
        os.unlink(path)


def _load_if_plain(con, head: bytes, path: str, ingest_id: str, registry) -> BulkCsv | None:
    line = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    try:
        first = next(csv.reader([line.decode("utf-8").rstrip("\r")]), None)
    except UnicodeDecodeError:
        return None
    if not first:
        return None
    keys = [COLUMNS.get(h.strip(), h.strip() if h.strip() in COLUMNS.values() else None) for h in first]
    if any(k not in keys for k in ("event", "codes", "time", "enterprise")):
        return None
    return _load(con, path, keys, ingest_id, registry)


def _load(con, path: str, keys: list, ingest_id: str, registry) -> BulkCsv | None:
    names = [f"c{i}" for i in range(len(keys))]
    cols = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
    pick = {k: f"nullif(trim(c{i}), '')" for i, k in enumerate(keys) if k}
    fields = ("event", "codes", "parent", "time", "enterprise", "counterpart", "batch", "expiry", "quantity", "split")
    select = ", ".join(f"{pick.get(f, 'NULL')} AS {f}" for f in fields)
    try:
        # One pass from the file to checked events: blank lines dropped, the step's mapping joined, codes split.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE csv_ev AS
            WITH r AS (
              SELECT {select} FROM read_csv('{path.replace("'", "''")}', header = true, columns = {{{cols}}},
                                            delim = ',', quote = '"', escape = '"', strict_mode = true))
            SELECT r.*, s.event_type, s.action, s.biz_step, s.cp,
              CASE WHEN r.event = '发药' AND r.split IN ({", ".join(f"'{v}'" for v in SPLIT_YES)})
                   THEN 'partially_dispensed' ELSE s.disposition END AS disposition,
              CASE WHEN strpos(r.codes, ';') + strpos(r.codes, '；') + strpos(r.codes, '|') = 0 THEN [r.codes]
                   ELSE list_sort(list_filter(list_transform(string_split_regex(r.codes, '[;；|]'), lambda x: trim(x)),
                                              lambda x: x <> '')) END AS code_list,
              try_strptime(r.time, '%Y-%m-%d %H:%M:%S') - INTERVAL 8 HOUR AS t_utc,
              CASE WHEN r.expiry SIMILAR TO '[0-9]{{8}}' THEN strftime(try_strptime(r.expiry, '%Y%m%d'), '%Y-%m-%d')
                   WHEN r.expiry SIMILAR TO '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}'
                   THEN strftime(try_strptime(r.expiry, '%Y-%m-%d'), '%Y-%m-%d') END AS expiry_iso
            FROM r LEFT JOIN ({_steps_sql()}) s ON s.name = r.event
            WHERE coalesce({", ".join(fields)}) IS NOT NULL"""
        )
    except duckdb.Error:  # a ragged, unreadable or non-UTF-8 file: the row-by-row path reports where
        return None
    bad = con.execute(
        f"""SELECT count(*) FROM csv_ev WHERE event_type IS NULL OR codes IS NULL OR time IS NULL OR enterprise IS NULL
          OR len(code_list) = 0 OR len(list_distinct(code_list)) <> len(code_list)
          OR NOT CASE WHEN len(code_list) = 1 THEN regexp_full_match(code_list[1], '{CODE}')
                 ELSE list_bool_and(list_transform(code_list, lambda x: regexp_full_match(x, '{CODE}'))) END
          OR NOT regexp_full_match(time, '{TIME}') OR t_utc IS NULL
          OR NOT regexp_full_match(enterprise, '{USCC}')
          OR (counterpart IS NULL AND cp IS NOT NULL)
          OR (counterpart IS NOT NULL AND NOT regexp_full_match(counterpart, '{USCC}'))
          OR (event_type = 'AggregationEvent' AND (parent IS NULL OR NOT regexp_full_match(parent, '{CODE}')))
          OR (quantity IS NOT NULL AND NOT regexp_full_match(quantity, '^[1-9][0-9]{{0,8}}$'))
          OR (event = '赋码' AND batch IS NOT NULL AND NOT regexp_full_match(batch, '{LOT_AS_IS}'))
          OR (event = '赋码' AND expiry IS NOT NULL AND expiry_iso IS NULL)"""
    ).fetchone()[0]
    if bad:
        return None
    parties = {
        v
        for (v,) in con.execute(
            "SELECT DISTINCT enterprise FROM csv_ev UNION SELECT DISTINCT counterpart FROM csv_ev "
            "WHERE counterpart IS NOT NULL"
        ).fetchall()
    }
    if any(check_uscc(p) for p in parties):
        return None
    if registry is not None:
        products = con.execute(
            f"""SELECT DISTINCT substr(c, 1, {PRODUCT_ID_LENGTH}) FROM
            (SELECT unnest(code_list) AS c FROM csv_ev)"""
        ).fetchall()
        try:
            for (product_id,) in products:
                parse_drug_trace_code(product_id + "0" * 13, registry)
        except CodeError:
            return None
    events, distinct = _hash_and_flatten(con, ingest_id)
    return BulkCsv("bulk_rows", distinct, events - distinct)


def _hash_and_flatten(con, ingest_id: str) -> tuple[int, int]:
    """CBV 2.0 pre-hash text per event (see eventhash.prehash_string), SHA-256, then one row per event × code.

    The optional parts follow the pre-hash rule's order by text, which for these four is fixed by their first
    characters (d < i < s < {), so they are concatenated in that order instead of sorted row by row.

    Returns the counts of events and of distinct hashes."""
    urn = TRACE_CODE_URN
    epcs = f"'epc={urn}' || array_to_string(code_list, 'epc={urn}')"  # the list is never empty (checked)
    sdt = CBV_WEB + "SDT-owning_party"
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW csv_hashed AS
        WITH p AS (
          SELECT *, '{PARTY_URN}' || enterprise AS me, '{PARTY_URN}' || counterpart AS other,
                 CASE WHEN event = '赋码' THEN batch END AS lot,
                 CASE WHEN event = '赋码' THEN expiry_iso END AS exp
          FROM csv_ev),
        q AS (
          SELECT *, CASE WHEN cp = 'destination' THEN me WHEN cp = 'source' THEN other END AS src,
                    CASE WHEN cp = 'destination' THEN other WHEN cp = 'source' THEN me END AS dst
          FROM p)
        SELECT q.*, 'ni:///sha-256;' || sha256(
            'eventType=' || event_type || 'eventTime=' || strftime(t_utc, '%Y-%m-%dT%H:%M:%S.000Z')
            || 'eventTimeZoneOffset=+08:00'
            || CASE WHEN event_type = 'AggregationEvent' THEN 'parentID={urn}' || parent || 'childEPCs' || {epcs}
                    ELSE 'epcList' || {epcs} END
            || 'action=' || action || 'bizStep={CBV_WEB}BizStep-' || biz_step
            || 'disposition={CBV_WEB}Disp-' || disposition || 'bizLocationid=' || me
            || coalesce('destinationListtype={sdt}destination=' || dst, '')
            || CASE WHEN lot IS NOT NULL OR exp IS NOT NULL THEN 'ilmd'
                 || coalesce('{CBVMDA}itemExpirationDate=' || exp, '') || coalesce('{CBVMDA}lotNumber=' || lot, '')
               ELSE '' END
            || coalesce('sourceListtype={sdt}source=' || src, '')
            || coalesce('{UNITS_EXTENSION}=' || quantity, '')
          ) || '?ver={HASH_VERSION}' AS event_hash
        FROM q"""
    )
    # One store row per event × code, hashing in the same pass; a row repeated in the file is a duplicate, and only
    # then is the table built again keeping one event per hash.
    events = con.execute("SELECT count(*) FROM csv_ev").fetchone()[0]
    _flatten(con, ingest_id, "")
    distinct = con.execute("SELECT count(DISTINCT event_hash) FROM bulk_rows").fetchone()[0]
    if distinct < events:
        _flatten(con, ingest_id, "QUALIFY row_number() OVER (PARTITION BY event_hash) = 1")
    return events, distinct


def _flatten(con, ingest_id: str, once: str) -> None:
    """Table ``bulk_rows``: codes of object events as role epc, of aggregations as child plus the parent."""
    urn = TRACE_CODE_URN
    columns = ", ".join(STORE_COLUMNS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE bulk_rows AS
        WITH e AS (SELECT * FROM csv_hashed {once}),
        x AS (
          SELECT e.*, CASE WHEN event_type = 'AggregationEvent' THEN 'child' ELSE 'epc' END AS role,
                 unnest(code_list) AS code FROM e
          UNION ALL
          SELECT e.*, 'parent' AS role, parent AS code FROM e WHERE event_type = 'AggregationEvent')
        SELECT {columns} FROM (
          SELECT event_hash, event_type, timezone('UTC', t_utc) AS event_time, '+08:00' AS tz_offset, action, biz_step,
                 disposition, CAST(NULL AS VARCHAR) AS read_point, me AS biz_location, src AS source_owner,
                 dst AS destination_owner,
                 CASE WHEN event_type = 'AggregationEvent' THEN '{urn}' || parent END AS parent_id,
                 lot, exp AS expiry, role, '{urn}' || code AS epc,
                 CASE WHEN role = 'epc' THEN CAST(quantity AS DOUBLE) END AS quantity, CAST(NULL AS VARCHAR) AS uom,
                 '{ingest_id}' AS ingest_id
          FROM x)"""
    )
