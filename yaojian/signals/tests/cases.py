"""A small hand-built set of ADR cases 手工病例集 for the stored-run tests, with its expected counts.

In 鼓楼区 (the world's gulou enterprise and product P = gulou阿莫西林胶囊):

====  =================================  ==========================  =====  ===
case  suspect / interacting drugs         reactions                   sex    age
====  =================================  ==========================  =====  ===
1–3   P                                   皮疹 (coded)                 F      30
4     P                                   皮疹 (coded), 恶心            M      70
5     P (+ 头孢克肟 concomitant: ignored)  恶心                        M      70
6     头孢克肟                             恶心                        F      30
7     ＩＢＵ布洛芬 (full width)             皮疹 (coded)                 M      8
8–12  ibu布洛芬                            恶心                        F      30
13    P                                   皮疹 — merged duplicate of 1   F      30
14    P                                   皮疹 — nullified               F      30
====  =================================  ==========================  =====  ===

and one case in 玄武区 (P of xuanwu + 皮疹), outside 鼓楼区. Reports 1–12 count: 12 reports.
"""

import datetime

from yaojian.adr.models import AdrDrug, AdrReaction, AdrReport, ReactionTerm

DAY = datetime.date(2025, 2, 10)
RASH, NAUSEA = "皮疹", "恶心"


def add_case(enterprise, number, drugs, reactions, *, day=DAY, sex="F", age=30, **extra) -> AdrReport:
    """One report with its drugs ((product or name, role)) and reactions (ReactionTerm or text)."""
    report = AdrReport.objects.create(
        report_number=number,
        enterprise=enterprise,
        reported_on=day,
        reaction=str(reactions[0]),
        patient_sex=sex,
        patient_age=age,
        **extra,
    )
    for position, (drug, role) in enumerate(drugs, start=1):
        product = None if isinstance(drug, str) else drug
        AdrDrug.objects.create(
            report=report, position=position, role=role, product=product, name=drug if product is None else drug.name
        )
    for position, reaction in enumerate(reactions, start=1):
        coded = None if isinstance(reaction, str) else reaction
        AdrReaction.objects.create(
            report=report, position=position, reported_term=reaction if coded is None else coded.name, coded_term=coded
        )
    return report


def build_cases(world) -> dict:
    ent, product = world.enterprises["gulou"], world.products["gulou"]
    rash = ReactionTerm.objects.create(code="T0001", name=RASH)
    s = "suspect"
    cases = {}
    for k in (1, 2, 3):
        cases[k] = add_case(ent, f"SIG-{k}", [(product, s)], [rash])
    cases[4] = add_case(ent, "SIG-4", [(product, s)], [rash, NAUSEA], sex="M", age=70)
    cases[5] = add_case(ent, "SIG-5", [(product, s), ("头孢克肟", "concomitant")], [NAUSEA], sex="M", age=70)
    cases[6] = add_case(ent, "SIG-6", [("头孢克肟", "interacting")], [NAUSEA])
    cases[7] = add_case(ent, "SIG-7", [("ＩＢＵ布洛芬", s)], [rash], sex="M", age=8)
    for k in range(8, 13):
        cases[k] = add_case(ent, f"SIG-{k}", [("ibu布洛芬 ", s)], [NAUSEA])
    cases[13] = add_case(ent, "SIG-13", [(product, s)], [rash], duplicate_of=cases[1])
    cases[14] = add_case(ent, "SIG-14", [(product, s)], [rash], is_nullified=True)
    add_case(world.enterprises["xuanwu"], "SIG-XW", [(world.products["xuanwu"], s)], [rash])
    # A registry product is labelled with its approval number (many holders make the same medicine).
    label = f"{product.name}（{product.approval_number}）"
    return {"cases": cases, "rash": rash, "product": product, "label": label}
