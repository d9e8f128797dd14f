"""Case write path 病例写入服务: a report with its drugs and reactions saved as one audited unit.

``save_case`` creates or updates an ``AdrReport`` and replaces its drug (G.k) and reaction (E.i) rows in
one transaction. The report's summary columns (product, batch, reaction, seriousness) are derived here
from the children so every list, score and dossier that reads only the report table stays right.
The report itself goes through ``core.services`` (scope check, validation, audit); each child set that
changed gets one more audit record (``adr.adrdrug`` / ``adr.adrreaction``, object id = the report).
"""

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from yaojian.casework import coding
from yaojian.core import audit, identifiers, services
from yaojian.core.choices import AuditAction
from yaojian.registry.models import Batch, Product

from .models import AdrDrug, AdrReaction, AdrReport, DrugRole, Outcome, ReactionTerm, Seriousness

DRUG_FIELDS = [f.name for f in AdrDrug._meta.concrete_fields if f.name not in ("id", "report")]
REACTION_FIELDS = [f.name for f in AdrReaction._meta.concrete_fields if f.name not in ("id", "report")]


def seriousness_of(reactions: Iterable[dict]) -> str:
    """Case seriousness 严重程度: death if any reaction was fatal, serious if any criterion is ticked."""
    reactions = list(reactions)
    if any(r.get("results_in_death") or r.get("outcome") == Outcome.DEATH for r in reactions):
        return Seriousness.DEATH
    if any(r.get(name) for r in reactions for name in AdrReaction.SERIOUSNESS_FIELDS):
        return Seriousness.SERIOUS
    return Seriousness.GENERAL


def match_registry(drugs: Sequence[dict]) -> None:
    """Link drugs to registry products/batches 关联登记产品 by approval number and batch number (two queries).

    Only blanks are filled: a product or batch the user picked is kept.
    """
    numbers = {identifiers.normalize(d.get("approval_number")).replace(" ", "") for d in drugs} - {""}
    if not numbers:
        return
    products = {p.approval_number: p for p in Product.objects.filter(approval_number__in=numbers)}
    wanted = {
        (products[n].pk, d["batch_number"].strip())
        for d in drugs
        if (n := identifiers.normalize(d.get("approval_number")).replace(" ", "")) in products and d.get("batch_number")
    }
    batches = {}
    if wanted:
        rows = Batch.objects.filter(
            product_id__in={p for p, _ in wanted}, batch_number__in={b for _, b in wanted}
        ).only("pk", "product_id", "batch_number")
        batches = {(b.product_id, b.batch_number): b for b in rows}
    for drug in drugs:
        product = products.get(identifiers.normalize(drug.get("approval_number")).replace(" ", ""))
        if product is None:
            continue
        if not drug.get("product") and not drug.get("product_id"):
            drug["product"] = product
        if not drug.get("batch") and not drug.get("batch_id"):
            drug["batch"] = batches.get((product.pk, (drug.get("batch_number") or "").strip()))


def code_reactions(reactions: Sequence[dict]) -> None:
    """Fill ``coded_term`` from a term code (MedDRA or project code) when such a ``ReactionTerm`` exists."""
    codes = {r["term_code"] for r in reactions if r.get("term_code")}
    by_code = {t.code: t for t in ReactionTerm.objects.filter(code__in=codes, active=True)} if codes else {}
    for r in reactions:
        code = r.pop("term_code", None)
        if code and not r.get("coded_term"):
            r["coded_term"] = by_code.get(code)


def summary_fields(drugs: Sequence[dict], reactions: Sequence[dict]) -> dict:
    """Report summary columns 概要字段 from the first suspect drug and the first reaction."""
    suspect = next((d for d in drugs if d.get("role", DrugRole.SUSPECT) == DrugRole.SUSPECT), None)
    summary = {"seriousness": seriousness_of(reactions)}
    if reactions:
        summary["reaction"] = reactions[0]["reported_term"][:200]
    summary["product"] = _related(suspect, "product")
    summary["batch"] = _related(suspect, "batch")
    return summary


def _related(drug: dict | None, name: str):
    if drug is None:
        return None
    value = drug.get(name)
    if value is None and drug.get(f"{name}_id"):
        value = (Product if name == "product" else Batch).objects.get(pk=drug[f"{name}_id"])
    return value


def _child_rows(model, field_names, rows: Sequence[dict], report) -> list:
    objects = []
    for position, row in enumerate(rows, start=1):
        values = {k: v for k, v in row.items() if k in field_names or k.removesuffix("_id") in field_names}
        values["position"] = position
        obj = model(report=report, **values)
        obj.full_clean(exclude=["report"])
        objects.append(obj)
    return objects


def _child_snapshot(objects) -> list[dict]:
    return [{k: v for k, v in audit.snapshot(o).items() if k not in ("id", "report_id")} for o in objects]


def _replace_children(report, model, field_names, rows, actor) -> bool:
    """Swap a child set; one audit record when it changed. Returns whether it changed."""
    current = list(model.objects.filter(report=report).order_by("position"))
    new = _child_rows(model, field_names, rows, report)
    before, after = _child_snapshot(current), _child_snapshot(new)
    if before == after:
        return False
    model.objects.filter(report=report).delete()
    model.objects.bulk_create(new)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE if current else AuditAction.CREATE,
        object_type=model._meta.label_lower,
        object_id=report.pk,
        object_repr=f"{report.report_number} {model._meta.verbose_name}",
        division_code=report.division_code,
        before=before or None,
        after=after,
    )
    return True


@transaction.atomic
def save_case(
    *, actor, fields: dict, drugs: Sequence[dict], reactions: Sequence[dict], report: AdrReport | None = None
) -> AdrReport:
    """Create (``report`` None) or update a case with its children; returns the saved report.

    ``drugs``/``reactions`` are dicts of model field values in order (position follows the order);
    a reaction may carry ``term_code`` to be coded against ``ReactionTerm``. At least one reaction is
    required (E2B E.i is mandatory).
    """
    drugs = [dict(d) for d in drugs]
    reactions = [dict(r) for r in reactions]
    if not reactions:
        raise ValidationError("至少填写一条不良反应")
    match_registry(drugs)
    code_reactions(reactions)
    values = {**fields, **summary_fields(drugs, reactions)}
    product = values.get("product")
    if product is not None and not values.get("enterprise") and not values.get("enterprise_id"):
        values["enterprise"] = product.holder  # the holder 持有人 of the matched suspect product
    if report is None:
        report = services.create_record(AdrReport, actor=actor, **values)
    else:
        report = services.update_record(report, actor=actor, **values)
    changed = _replace_children(report, AdrDrug, DRUG_FIELDS, drugs, actor)
    changed = _replace_children(report, AdrReaction, REACTION_FIELDS, reactions, actor) or changed
    if changed:
        services.notify_changed(AdrReport, [report.enterprise_id, report.reporting_enterprise_id])
    coding.code_report(report, actor=actor)  # free text the E2B/form gave no term code for
    return report


def case_children(report: AdrReport) -> tuple[list[dict], list[dict]]:
    """The report's drugs and reactions as field dicts (the inverse of ``save_case``'s input)."""
    drugs = [{n: getattr(d, n) for n in DRUG_FIELDS if n != "position"} for d in report.drugs.order_by("position")]
    reactions = [
        {n: getattr(r, n) for n in REACTION_FIELDS if n != "position"} for r in report.reactions.order_by("position")
    ]
    return drugs, reactions
