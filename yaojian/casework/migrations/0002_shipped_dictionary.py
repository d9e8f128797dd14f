"""Load the shipped reaction dictionary 内置不良反应术语集 so that coding works from the first start.

Later revisions of the CSV are applied with ``yaojian casework load-terms`` (idempotent, audited).
"""

from django.db import migrations


def load(apps, schema_editor):
    from yaojian.casework.dictionary import YAOJIAN, read_project_csv

    term_model = apps.get_model("adr", "ReactionTerm")
    synonym_model = apps.get_model("adr", "ReactionSynonym")
    if term_model.objects.filter(dictionary=YAOJIAN).exists():
        return  # already loaded by the command
    rows = read_project_csv()
    term_model.objects.bulk_create(
        term_model(
            dictionary=YAOJIAN, code=r.code, name=r.name, name_en=r.name_en, system_organ_class=r.system_organ_class
        )
        for r in rows
    )
    ids = dict(term_model.objects.filter(dictionary=YAOJIAN).values_list("code", "pk"))
    synonym_model.objects.bulk_create(
        synonym_model(term_id=ids[r.code], text=key) for r in rows for key in sorted(r.keys())
    )


def unload(apps, schema_editor):
    apps.get_model("adr", "ReactionTerm").objects.filter(dictionary="yaojian", code__startswith="YJ").delete()


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial"), ("adr", "0003_e2b_case")]

    operations = [migrations.RunPython(load, unload)]
