"""Child rows for the CSV/Excel import 表格导入 of reports: one row per case becomes a case with its
first suspect drug and first reaction.

The bulk writer upserts the report table only; ``write_children`` then brings, for every report of the
import job, the first reaction (position 1) and the first suspect drug in line with the row — a few
queries per job, whatever its size. Re-importing the same file updates these rows instead of adding
more; drugs and reactions entered beyond them (on the case form, by E2B) are kept.
"""

from django.db.models import Max

from yaojian.casework import coding

from .models import AdrDrug, AdrReaction, AdrReport, DrugRole, Seriousness

FLAGS = AdrReaction.SERIOUSNESS_FIELDS


def _flags(reaction: AdrReaction, seriousness: str) -> None:
    """Seriousness criteria in line with the row's 严重程度 (the summary rule read backwards)."""
    if seriousness == Seriousness.DEATH:
        reaction.results_in_death = True
    elif seriousness == Seriousness.SERIOUS:
        reaction.results_in_death = False
        if not any(getattr(reaction, name) for name in FLAGS):
            reaction.other_medically_important = True  # serious, criterion not given
    else:
        for name in FLAGS:
            setattr(reaction, name, False)


def write_children(job_id: str) -> None:
    reports = list(
        AdrReport.objects.filter(import_batch=job_id).values(
            "pk",
            "reaction",
            "seriousness",
            "onset_on",
            "outcome",
            "causality",
            "product_id",
            "batch_id",
            "product__name",
            "product__approval_number",
            "batch__batch_number",
        )
    )
    if not reports:
        return
    ids = [r["pk"] for r in reports]
    _reactions(reports, {r.report_id: r for r in AdrReaction.objects.filter(report_id__in=ids, position=1)})
    suspects = {}
    for drug in AdrDrug.objects.filter(report_id__in=ids, role=DrugRole.SUSPECT).order_by("report_id", "position"):
        suspects.setdefault(drug.report_id, drug)
    positions = dict(
        AdrDrug.objects.filter(report_id__in=ids)
        .values("report_id")
        .annotate(n=Max("position"))
        .values_list("report_id", "n")
    )
    _drugs([r for r in reports if r["product_id"]], suspects, positions)
    coding.code_pending(AdrReaction.objects.filter(report_id__in=ids))


def _reactions(reports: list[dict], first: dict) -> None:
    new, changed = [], []
    for row in reports:
        reaction = first.get(row["pk"]) or AdrReaction(report_id=row["pk"], position=1)
        reaction.reported_term = row["reaction"]
        reaction.onset_on = reaction.onset_on or row["onset_on"]
        reaction.outcome = row["outcome"]
        _flags(reaction, row["seriousness"])
        (changed if reaction.pk else new).append(reaction)
    AdrReaction.objects.bulk_create(new)
    AdrReaction.objects.bulk_update(changed, ["reported_term", "onset_on", "outcome", *FLAGS])


def _drugs(reports: list[dict], suspects: dict, positions: dict) -> None:
    new, changed = [], []
    for row in reports:
        drug = suspects.get(row["pk"])
        if drug is None:
            drug = AdrDrug(report_id=row["pk"], role=DrugRole.SUSPECT, position=positions.get(row["pk"], 0) + 1)
        drug.product_id, drug.batch_id = row["product_id"], row["batch_id"]
        drug.name = row["product__name"]
        drug.approval_number = row["product__approval_number"]
        drug.batch_number = row["batch__batch_number"] or ""
        drug.causality = drug.causality or row["causality"]
        (changed if drug.pk else new).append(drug)
    AdrDrug.objects.bulk_create(new)
    AdrDrug.objects.bulk_update(changed, ["product", "batch", "name", "approval_number", "batch_number", "causality"])
