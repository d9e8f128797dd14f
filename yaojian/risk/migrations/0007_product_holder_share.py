from django.db import migrations

from yaojian.risk.defaults import REVISIONS, add_revision


def store_revision(apps, schema_editor):
    """Version 6 of the risk-model parameters: a larger holder share in product risk."""
    add_revision(apps.get_model("risk", "RiskModelConfig"), REVISIONS[4])


class Migration(migrations.Migration):
    dependencies = [("risk", "0006_trace_leads")]

    operations = [migrations.RunPython(store_revision, migrations.RunPython.noop)]
