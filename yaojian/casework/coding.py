"""Coding 编码: reported reaction terms → dictionary terms, set-based.

A batch of reactions is coded with one read of its distinct reported texts, one read of the
synonyms matching their normalised keys, and one UPDATE per matched term — never a query per
reaction. A text that maps to more than one active term of the dictionary is ambiguous and stays
uncoded for a person to decide in the coding queue 编码队列.

``code_report(report)`` codes one report's reactions; the ADR services call it when a case is
created or changed, and ``code_pending()`` runs after imports and by ``yaojian casework code``.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, QuerySet

from yaojian.adr.models import AdrReaction, AdrReport, ReactionSynonym, ReactionTerm
from yaojian.core import access, audit
from yaojian.core.choices import AuditAction

from .dictionary import YAOJIAN, add_synonym, require
from .normalise import candidates, normalise

CHUNK = 5000  # ids per UPDATE … WHERE id IN (…), well under SQLite's variable limit


def coding_dictionary() -> str:
    """The dictionary reactions are coded to: the project one, or ``meddra`` where the setting says so."""
    return getattr(settings, "YAOJIAN_REACTION_DICTIONARY", YAOJIAN)


def lookup(texts, dictionary: str | None = None) -> dict[str, int]:
    """Term id for each raw text that codes unambiguously (exact key first, then the trimmed key)."""
    dictionary = dictionary or coding_dictionary()
    keys_of = {text: candidates(text) for text in set(texts)}
    all_keys = sorted({k for keys in keys_of.values() for k in keys})
    terms_of_key: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(all_keys), CHUNK):
        rows = ReactionSynonym.objects.filter(
            text__in=all_keys[start : start + CHUNK], term__dictionary=dictionary, term__active=True
        )
        for key, term_id in rows.values_list("text", "term_id"):
            terms_of_key[key].add(term_id)
    found = {}
    for text, keys in keys_of.items():
        for key in keys:
            terms = terms_of_key.get(key)
            if terms:
                if len(terms) == 1:
                    found[text] = next(iter(terms))
                break  # an ambiguous exact key is not overridden by a looser one
    return found


@dataclass
class CodingResult:
    pending: int  # uncoded reactions looked at
    coded: int


def _apply(reactions: QuerySet, term_of_text: dict[str, int], *, actor, note: str) -> int:
    """Set ``coded_term`` on the uncoded reactions whose text maps; one audit record for the batch."""
    by_term: dict[int, list[int]] = defaultdict(list)
    texts = sorted(term_of_text)
    for start in range(0, len(texts), CHUNK):
        rows = reactions.filter(coded_term__isnull=True, reported_term__in=texts[start : start + CHUNK])
        for pk, text in rows.values_list("pk", "reported_term"):
            by_term[term_of_text[text]].append(pk)
    coded = 0
    digest = hashlib.sha256()
    for term_id in sorted(by_term):
        ids = sorted(by_term[term_id])
        digest.update(f"{term_id}:{','.join(map(str, ids))};".encode())
        for start in range(0, len(ids), CHUNK):
            coded += AdrReaction.objects.filter(pk__in=ids[start : start + CHUNK], coded_term__isnull=True).update(
                coded_term_id=term_id
            )
    if coded:
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="adr.adrreaction",
            object_repr=f"{note}：编码 {coded} 条",
            after={"coded": coded, "terms": len(by_term), "content_sha256": digest.hexdigest()},
        )
    return coded


@transaction.atomic
def code_pending(queryset: QuerySet | None = None, *, actor=None, dictionary: str | None = None) -> CodingResult:
    """Code every uncoded reaction of ``queryset`` (default: all) that the dictionary maps."""
    reactions = (AdrReaction.objects.all() if queryset is None else queryset).filter(coded_term__isnull=True)
    texts = list(reactions.values_list("reported_term", flat=True).distinct().order_by())
    pending = reactions.count()
    if not texts:
        return CodingResult(pending, 0)
    coded = _apply(reactions, lookup(texts, dictionary), actor=actor, note="自动编码")
    return CodingResult(pending, coded)


def code_report(report: AdrReport, *, actor=None) -> int:
    """Code one report's uncoded reactions (called by the ADR services after a case is saved)."""
    return code_pending(report.reactions.all(), actor=actor).coded


# --- coding queue 编码队列 ---


@dataclass
class QueueRow:
    key: str  # normalised text
    variants: list[str]  # reported spellings behind it, most frequent first
    count: int  # uncoded reactions
    reports: int
    first_report: str
    last_report: str


def counted_reports(reports: QuerySet) -> QuerySet:
    """Reports that count: merged duplicates and nullified reports are left out."""
    return reports.filter(duplicate_of__isnull=True, is_nullified=False)


def queue(reports: QuerySet, search: str = "") -> list[QueueRow]:
    """Uncoded reactions of ``reports`` grouped by normalised text, most frequent first.

    SQL groups by the raw text (one query); the few distinct raw texts are then folded by their
    normalised key, so 皮肤瘙痒 and ＂皮肤 瘙痒＂ make one row.
    """
    rows = (
        AdrReaction.objects.filter(coded_term__isnull=True, report__in=counted_reports(reports))
        .values("reported_term")
        .annotate(n=Count("pk"), n_reports=Count("report", distinct=True))
        .annotate(first=Min("report__report_number"), last=Max("report__report_number"))
        .order_by()
    )
    groups: dict[str, dict] = {}
    needle = normalise(search)
    for row in rows:
        key = normalise(row["reported_term"])
        if not key or (needle and needle not in key):
            continue
        group = groups.setdefault(key, {"variants": [], "count": 0, "reports": 0, "first": None, "last": None})
        group["variants"].append((row["n"], row["reported_term"]))
        group["count"] += row["n"]
        group["reports"] += row["n_reports"]
        group["first"] = min(filter(None, (group["first"], row["first"])))
        group["last"] = max(filter(None, (group["last"], row["last"])))
    result = [
        QueueRow(
            key=key,
            variants=[text for _n, text in sorted(g["variants"], key=lambda v: (-v[0], v[1]))],
            count=g["count"],
            reports=g["reports"],
            first_report=g["first"],
            last_report=g["last"],
        )
        for key, g in groups.items()
    ]
    result.sort(key=lambda r: (-r.count, r.key))
    return result


@transaction.atomic
def resolve(text: str, term: ReactionTerm, *, actor) -> int:
    """The coder's decision: ``text`` means ``term``. Adds the synonym and codes every uncoded reaction
    with that normalised text at once (the dictionary is national, so the coding is too); audited."""
    require(actor, AdrReport, access.CHANGE)
    key = normalise(text)
    add_synonym(term, key, actor=actor)
    texts = AdrReaction.objects.filter(coded_term__isnull=True).values_list("reported_term", flat=True).distinct()
    matching = {t: term.pk for t in texts.order_by() if normalise(t) == key}
    if not matching:
        return 0
    return _apply(AdrReaction.objects.all(), matching, actor=actor, note=f"编码队列：{key} → {term.name}")
