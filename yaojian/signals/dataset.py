"""Case–drug–event rows from the database 病例–药品–事件明细 for a stored signal run.

One SQL query joins suspect and interacting drugs (怀疑/相互作用药品) with the reactions of the same
report, over the reports of a period and scope that are neither merged duplicates nor nullified.
Everything after the query is NumPy over whole columns; Python touches only distinct values
(names to normalise, keys to label).
"""

from __future__ import annotations

import datetime
import itertools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat

from yaojian.adr.models import AdrDrug, DrugRole

STRATA = {"age_group": "年龄组", "sex": "性别", "year": "年份"}
# E2B D.2.3 age groups from an age in years (neonates cannot be told apart from infants by years).
AGE_EDGES = np.array([2, 12, 18, 65])
AGE_GROUPS = np.array(["infant", "child", "adolescent", "adult", "elderly"], dtype=object)

LOOKUP_CHUNK = 5000
FETCH_CHUNK = 100_000
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Full-width → half-width (NFKC), blanks collapsed, Latin letters in lower case."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


@dataclass
class CaseTable:
    """Rows coded densely; ``*_keys``/``*_labels``/``*_ids`` describe the codes."""

    report: np.ndarray  # report code per row
    drug: np.ndarray
    event: np.ndarray
    stratum: np.ndarray | None
    report_ids: np.ndarray  # AdrReport pk per report code
    report_quarter: np.ndarray  # quarter index (from the period's first quarter) per report code
    quarters: list[str]  # labels such as 2025Q1
    drug_keys: np.ndarray
    drug_labels: np.ndarray
    drug_product: np.ndarray  # product pk or 0
    event_keys: np.ndarray
    event_labels: np.ndarray
    event_term: np.ndarray  # ReactionTerm pk or 0

    @property
    def n_rows(self) -> int:
        return int(self.report.size)


def _fetch_columns(rows, dtypes) -> list[np.ndarray] | None:
    """The query's columns as arrays, fetched in chunks (NULL → NaN in float columns); None if empty."""
    parts, iterator = [], rows.iterator(chunk_size=FETCH_CHUNK)
    while chunk := list(itertools.islice(iterator, FETCH_CHUNK)):
        parts.append([np.array(col, dtype=t) for col, t in zip(zip(*chunk, strict=True), dtypes, strict=True)])
    if not parts:
        return None
    return [np.concatenate(col) for col in zip(*parts, strict=True)]


def quarter_labels(date_from: datetime.date, date_to: datetime.date) -> list[str]:
    first = ((date_from.year - 1970) * 12 + date_from.month - 1) // 3
    last = ((date_to.year - 1970) * 12 + date_to.month - 1) // 3
    return [f"{1970 + q // 4}Q{q % 4 + 1}" for q in range(first, last + 1)]


def _code_keys(ids: np.ndarray, texts: np.ndarray, id_prefix: str, text_prefix: str, width: int):
    """Code per row: from the id where one is set (ids as float, NaN = none), else the normalised text.

    Returns codes and, per code, key, label source and id (0 for text keys).
    """
    has_id = ~np.isnan(ids)
    id_values, id_codes = np.unique(ids[has_id].astype(np.int64), return_inverse=True)
    raw, raw_codes = np.unique(texts[~has_id].astype(str), return_inverse=True)
    # Once per distinct text; cut to the label's width (NFKC may lengthen a text slightly).
    normalised = np.array([normalise(t)[:width] for t in raw.tolist()], dtype=object)
    text_values, text_of_raw = np.unique(normalised.astype(str), return_inverse=True)
    codes = np.empty(ids.size, dtype=np.int64)
    codes[has_id] = id_codes
    codes[~has_id] = id_values.size + text_of_raw[raw_codes]
    keys = np.array(
        [f"{id_prefix}:{v}" for v in id_values.tolist()] + [f"{text_prefix}:{t}" for t in text_values.tolist()],
        dtype=object,
    )
    labels = np.concatenate([np.full(id_values.size, "", dtype=object), text_values.astype(object)])
    pks = np.concatenate([id_values, np.zeros(text_values.size, dtype=np.int64)])
    return codes, keys, labels, pks


def _strata_codes(strata, year, sex, age, age_group) -> np.ndarray | None:
    if not strata:
        return None
    columns = []
    for name in strata:
        if name == "year":
            columns.append(year)
        elif name == "sex":
            columns.append(np.unique(sex.astype(str), return_inverse=True)[1])
        else:
            with np.errstate(invalid="ignore"):
                derived = np.where(np.isnan(age), "unknown", AGE_GROUPS[np.digitize(np.nan_to_num(age), AGE_EDGES)])
            groups = np.where(age_group.astype(str) != "", age_group.astype(str), derived.astype(str))
            columns.append(np.unique(groups, return_inverse=True)[1])
    return np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)[1].reshape(-1)


def build_table(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    division_prefix: str = "",
    category: str | None = None,
    strata=(),
) -> CaseTable | None:
    """The (report, drug, event[, stratum]) rows of the scope; ``None`` when there are none."""
    unknown = set(strata) - set(STRATA)
    if unknown:
        raise ValueError(f"未知的分层 {', '.join(sorted(unknown))}，可选 {', '.join(STRATA)}")
    drugs = AdrDrug.objects.filter(
        role__in=(DrugRole.SUSPECT, DrugRole.INTERACTING),
        report__is_nullified=False,
        report__duplicate_of__isnull=True,
        report__reported_on__gte=date_from,
        report__reported_on__lte=date_to,
        report__reactions__isnull=False,
    )
    if division_prefix:
        drugs = drugs.filter(report__division_code__startswith=division_prefix)
    if category:
        # A drug's own product decides; an unmapped drug takes the category of the report's suspect product.
        drugs = drugs.annotate(scope_category=Coalesce("product__category", "report__product__category")).filter(
            Q(scope_category=category)
        )
    # Texts only where no id codes the drug/event: most rows then carry "" and the fetch stays light.
    rows = (
        drugs.annotate(
            unmapped_name=Case(When(product__isnull=True, then=F("name")), default=Value("")),
            uncoded_term=Case(
                When(report__reactions__coded_term__isnull=True, then=F("report__reactions__reported_term")),
                default=Value(""),
            ),
            # ISO text parsed by NumPy in bulk (Django's SQLite date extraction is a Python call per row).
            day=Cast("report__reported_on", CharField()),
        )
        .order_by()
        .values_list(  # no ORDER BY: the rows are coded by sorting arrays anyway
            "report_id",
            "product_id",
            "unmapped_name",
            "report__reactions__coded_term_id",
            "uncoded_term",
            "day",
            "report__patient_sex",
            "report__patient_age",
            "report__patient_age_group",
        )
    )
    columns = _fetch_columns(rows, (np.int64, float, object, float, object, "datetime64[D]", object, float, object))
    if columns is None:
        return None
    report_pk, product, name, term, reported, day, sex, age, age_group = columns
    months = day.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    year = months // 12 + 1970
    report_ids, report = np.unique(report_pk, return_inverse=True)
    drug, drug_keys, drug_labels, drug_product = _code_keys(product, name, "product", "name", 300)
    event, event_keys, event_labels, event_term = _code_keys(term, reported, "term", "text", 250)
    quarter = months // 3
    first_quarter = ((date_from.year - 1970) * 12 + date_from.month - 1) // 3
    report_quarter = np.zeros(report_ids.size, dtype=np.int64)
    report_quarter[report] = quarter - first_quarter
    stratum = _strata_codes(list(strata), year, sex, age, age_group)
    _label_ids(drug_labels, drug_product, event_labels, event_term)
    return CaseTable(
        report=report.reshape(-1),
        drug=drug,
        event=event,
        stratum=stratum,
        report_ids=report_ids,
        report_quarter=report_quarter,
        quarters=quarter_labels(date_from, date_to),
        drug_keys=drug_keys,
        drug_labels=drug_labels,
        drug_product=drug_product,
        event_keys=event_keys,
        event_labels=event_labels,
        event_term=event_term,
    )


def _label_ids(drug_labels, drug_product, event_labels, event_term) -> None:
    """Names behind id keys, filled in place: products with their approval number (one name is often
    made by many holders, each its own product), coded terms by their name."""
    from yaojian.adr.models import ReactionTerm
    from yaojian.registry.models import Product

    lookups = (
        (
            drug_labels,
            drug_product,
            Product.objects.annotate(label=Concat("name", Value("（"), "approval_number", Value("）"))),
        ),
        (event_labels, event_term, ReactionTerm.objects.annotate(label=F("name"))),
    )
    for labels, pks, queryset in lookups:
        where = np.flatnonzero(pks)
        wanted, names = pks[where].tolist(), {}
        for lo in range(0, len(wanted), LOOKUP_CHUNK):  # stays under SQLite's bound-parameter limit
            names.update(queryset.filter(pk__in=wanted[lo : lo + LOOKUP_CHUNK]).values_list("pk", "label"))
        labels[where] = [names.get(pk, str(pk))[:300] for pk in wanted]
