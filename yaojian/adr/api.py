"""REST API 接口: adverse-reaction reports 不良反应报告, and one case with its drugs and reactions (nested)."""

import datetime
import decimal
from typing import Any

from ninja import ModelSchema, Router, Schema

from yaojian.core import access
from yaojian.core.api import ERRORS, dump, register_crud
from yaojian.core.api_auth import api_auth

from .filtersets import AdrReportFilterSet
from .models import AdrDrug, AdrReaction, AdrReport

router = Router()
register_crud(router, AdrReport, "adr-reports", AdrReportFilterSet)


class DrugOut(ModelSchema):
    class Meta:
        model = AdrDrug
        exclude = ["report"]


class ReactionOut(ModelSchema):
    coded_term_code: str | None = None
    coded_term_name: str | None = None

    class Meta:
        model = AdrReaction
        exclude = ["report"]


class CaseOut(Schema):
    report: dict[str, Any]
    drugs: list[DrugOut]
    reactions: list[ReactionOut]


def _plain(value):
    return str(value) if isinstance(value, decimal.Decimal) else value


@router.get(
    "/adr-reports/{int:pk}/case/",
    response={200: CaseOut, **ERRORS},
    auth=api_auth(AdrReport, access.VIEW),
    url_name="adrreport-case",
    operation_id="adrreport_case",
    summary="不良反应报告病例详情（含药品与不良反应）",
    tags=[str(AdrReport._meta.verbose_name)],
)
def case_detail(request, pk: int):
    report = access.get_scoped_or_404(AdrReport.objects.all(), request.auth, access.VIEW, pk=pk)
    reactions = []
    for reaction in report.reactions.select_related("coded_term"):
        reaction.coded_term_code = reaction.coded_term.code if reaction.coded_term else None
        reaction.coded_term_name = reaction.coded_term.name if reaction.coded_term else None
        reactions.append(reaction)
    data = {k: (v.isoformat() if isinstance(v, datetime.date) else _plain(v)) for k, v in dump(report).items()}
    return {"report": data, "drugs": list(report.drugs.all()), "reactions": reactions}
