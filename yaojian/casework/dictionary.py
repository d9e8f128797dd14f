"""Reaction dictionaries 不良反应术语集: the shipped project dictionary, MedDRA where licensed, and edits.

``load_terms`` is idempotent: terms are matched on (dictionary, code) and updated in place, missing
synonyms are added (synonyms added by coders are never removed), and terms of that dictionary absent
from the file are deactivated rather than deleted (reactions already coded keep their term). Each
load writes one audit record with a hash of what was loaded.

MedDRA is not shipped (its licence forbids redistribution). An organisation holding a licence loads
the ASCII distribution (``MedAscii`` folder: pt.asc, llt.asc, soc.asc, mdhier.asc; ``$``-separated):
each preferred term (PT) becomes a term, its primary SOC the organ class, and each current lowest
level term (LLT) a synonym of its PT.
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from yaojian.adr.models import ReactionSynonym, ReactionTerm
from yaojian.core import access, audit
from yaojian.core.choices import AuditAction
from yaojian.signals.tables import decode

from .normalise import normalise

SHIPPED = Path(__file__).resolve().parent / "data" / "reaction_terms.csv"
CSV_COLUMNS = ("code", "name", "name_en", "system_organ_class", "synonyms")
YAOJIAN, MEDDRA = "yaojian", "meddra"
MEDDRA_FILES = ("pt.asc", "llt.asc", "soc.asc", "mdhier.asc")


class DictionaryError(ValueError):
    """A malformed dictionary file 术语集文件有误; the message names the file and line."""


@dataclass
class TermRow:
    code: str
    name: str
    name_en: str = ""
    system_organ_class: str = ""
    synonyms: list[str] = field(default_factory=list)

    def keys(self) -> set[str]:
        """Normalised texts that code to this term: its names and synonyms."""
        return {k for k in map(normalise, (self.name, self.name_en, *self.synonyms)) if k}


@dataclass
class LoadResult:
    dictionary: str
    version: str
    terms: int
    created: int
    updated: int
    deactivated: int
    synonyms_added: int


def read_project_csv(path: str | Path = SHIPPED) -> list[TermRow]:
    """The project dictionary: ``code,name,name_en,system_organ_class,synonyms`` (synonyms split by ``|``)."""
    text = decode(Path(path).read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if tuple(header) != CSV_COLUMNS:
        raise DictionaryError(f"{path} 第 1 行：表头应为 {','.join(CSV_COLUMNS)}")
    rows, seen = [], set()
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(CSV_COLUMNS):
            raise DictionaryError(f"{path} 第 {line} 行：应有 {len(CSV_COLUMNS)} 列，实有 {len(values)} 列")
        code, name, name_en, soc, synonyms = (v.strip() for v in values)
        if not code or not name:
            raise DictionaryError(f"{path} 第 {line} 行：术语编码和标准术语不能为空")
        if code in seen:
            raise DictionaryError(f"{path} 第 {line} 行：术语编码 {code} 重复")
        seen.add(code)
        rows.append(TermRow(code, name, name_en, soc, [s.strip() for s in synonyms.split("|") if s.strip()]))
    return rows


def _asc(folder: Path, name: str) -> list[list[str]]:
    """Rows of one MedDRA ASCII file (``$``-separated, a trailing ``$`` on every line)."""
    return [line.split("$") for line in decode((folder / name).read_bytes()).splitlines() if line.strip()]


def read_meddra(folder: str | Path) -> tuple[list[TermRow], str]:
    """PTs with their primary SOC and current LLTs from a MedDRA ASCII folder; and the release version."""
    folder = Path(folder)
    missing = [name for name in MEDDRA_FILES if not (folder / name).exists()]
    if missing:
        raise DictionaryError(f"MedDRA 目录 {folder} 中缺少 {'、'.join(missing)}")
    soc_names = {r[0]: r[1] for r in _asc(folder, "soc.asc") if len(r) > 1}
    primary_soc = {}
    for r in _asc(folder, "mdhier.asc"):
        if len(r) > 11 and r[11] == "Y":  # primary_soc_fg
            primary_soc[r[0]] = r[7]
    terms: dict[str, TermRow] = {}
    for line, r in enumerate(_asc(folder, "pt.asc"), start=1):
        if len(r) < 4 or not r[0] or not r[1]:
            raise DictionaryError(f"pt.asc 第 {line} 行：字段不足（应为 pt_code$pt_name$$pt_soc_code$…）")
        soc = primary_soc.get(r[0]) or soc_names.get(r[3], "")
        terms[r[0]] = TermRow(r[0], r[1], system_organ_class=soc)
    for line, r in enumerate(_asc(folder, "llt.asc"), start=1):
        if len(r) < 3 or not r[1]:
            raise DictionaryError(f"llt.asc 第 {line} 行：字段不足（应为 llt_code$llt_name$pt_code$…）")
        current = len(r) <= 9 or r[9] != "N"  # llt_currency: non-current LLTs are not used for new coding
        if current and r[2] in terms:
            terms[r[2]].synonyms.append(r[1])
    version = ""
    release = folder / "meddra_release.asc"
    if release.exists():
        version = decode(release.read_bytes()).split("$")[0].strip()
    return list(terms.values()), version


def _content_hash(dictionary: str, rows: list[TermRow]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r.code):
        digest.update(
            "\x1f".join(
                (dictionary, row.code, row.name, row.name_en, row.system_organ_class, *sorted(row.keys()))
            ).encode()
        )
        digest.update(b"\x1e")
    return digest.hexdigest()


@transaction.atomic
def load_terms(dictionary: str, rows: list[TermRow], *, actor, version: str = "", source: str = "") -> LoadResult:
    """Upsert a whole dictionary set-based (one read of the terms and synonyms, bulk writes); audited once."""
    existing = {t.code: t for t in ReactionTerm.objects.filter(dictionary=dictionary)}
    to_create, to_update = [], []
    for row in rows:
        values = {
            "name": row.name[:200],
            "name_en": row.name_en[:200],
            "system_organ_class": row.system_organ_class[:100],
            "version": version[:20],
            "active": True,
        }
        term = existing.get(row.code)
        if term is None:
            to_create.append(ReactionTerm(dictionary=dictionary, code=row.code, **values))
        elif any(getattr(term, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(term, k, v)
            to_update.append(term)
    ReactionTerm.objects.bulk_create(to_create, batch_size=2000)
    ReactionTerm.objects.bulk_update(
        to_update, ["name", "name_en", "system_organ_class", "version", "active"], batch_size=2000
    )
    codes = {row.code for row in rows}
    deactivated = (
        ReactionTerm.objects.filter(dictionary=dictionary, active=True).exclude(code__in=codes).update(active=False)
        if rows
        else 0
    )
    term_ids = dict(ReactionTerm.objects.filter(dictionary=dictionary).values_list("code", "pk"))
    have = set(ReactionSynonym.objects.filter(term__dictionary=dictionary).values_list("term_id", "text"))
    wanted = {(term_ids[row.code], key[:200]) for row in rows for key in row.keys()}
    new_synonyms = [ReactionSynonym(term_id=t, text=text) for t, text in sorted(wanted - have)]
    ReactionSynonym.objects.bulk_create(new_synonyms, batch_size=5000)
    result = LoadResult(dictionary, version, len(rows), len(to_create), len(to_update), deactivated, len(new_synonyms))
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="adr.reactionterm",
        object_repr=f"加载术语集 {dictionary} {version}".strip(),
        after={**result.__dict__, "source": str(source), "content_sha256": _content_hash(dictionary, rows)},
    )
    return result


def load_project_dictionary(path: str | Path = SHIPPED, *, actor) -> LoadResult:
    return load_terms(YAOJIAN, read_project_csv(path), actor=actor, source=path)


def load_meddra(folder: str | Path, *, actor, version: str = "") -> LoadResult:
    rows, release = read_meddra(folder)
    return load_terms(MEDDRA, rows, actor=actor, version=version or release, source=folder)


def require(actor, model, action: str) -> None:
    """Role check for dictionary and coding writes (system jobs, ``actor=None``, act with full authority)."""
    if actor is not None and not access.has_perm(actor, model, action):
        raise PermissionDenied("无此操作权限")


@transaction.atomic
def add_synonym(term: ReactionTerm, text: str, *, actor) -> ReactionSynonym | None:
    """Add one synonym 新增同义词 (stored normalised); ``None`` when it is already there. Audited."""
    require(actor, ReactionTerm, access.CHANGE)
    key = normalise(text)[:200]
    if not key:
        raise ValidationError("同义词规范化后为空（只含空格或标点）")
    synonym, created = ReactionSynonym.objects.get_or_create(term=term, text=key)
    if not created:
        return None
    audit.record_change(synonym, actor=actor, action=AuditAction.CREATE, after=audit.snapshot(synonym))
    return synonym


@transaction.atomic
def save_term(term: ReactionTerm, *, actor, synonyms: list[str] = ()) -> ReactionTerm:
    """Add or edit one term 新增/修改术语 and add synonyms; the dictionary has no jurisdiction, so the
    role check is the whole check. Audited (the term, and each synonym added)."""
    adding = term.pk is None
    require(actor, ReactionTerm, access.ADD if adding else access.CHANGE)
    before = None if adding else audit.snapshot(ReactionTerm.objects.get(pk=term.pk))
    term.full_clean()
    term.save()
    after = audit.snapshot(term)
    if after != before:
        action = AuditAction.CREATE if adding else AuditAction.UPDATE
        audit.record_change(term, actor=actor, action=action, before=before, after=after)
    for text in (term.name, term.name_en, *synonyms):
        if normalise(text):
            add_synonym(term, text, actor=actor)
    return term
