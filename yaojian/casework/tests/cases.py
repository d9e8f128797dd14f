"""Hand-built ADR cases 手工病例 for the case-work tests."""

import datetime

from yaojian.adr.models import AdrDrug, AdrReaction, AdrReport

DAY = datetime.date(2025, 3, 1)


def add_case(enterprise, number, *, drugs=("阿莫西林胶囊",), reactions=("皮疹",), **fields) -> AdrReport:
    """One report with suspect drugs (names, or (name, batch number)) and reactions (texts, or (text, onset))."""
    fields.setdefault("reported_on", DAY)
    first = reactions[0] if isinstance(reactions[0], str) else reactions[0][0]
    report = AdrReport.objects.create(report_number=number, enterprise=enterprise, reaction=first, **fields)
    for position, drug in enumerate(drugs, start=1):
        name, batch = (drug, "") if isinstance(drug, str) else drug
        AdrDrug.objects.create(report=report, position=position, name=name, batch_number=batch)
    for position, reaction in enumerate(reactions, start=1):
        text, onset = (reaction, None) if isinstance(reaction, str) else reaction
        AdrReaction.objects.create(report=report, position=position, reported_term=text, onset_on=onset)
    return report
