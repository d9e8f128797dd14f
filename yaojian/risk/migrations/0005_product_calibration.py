from django.db import migrations

from yaojian.risk.defaults import REVISIONS, add_revision


def store_revision(apps, schema_editor):
    """Version 4 of the risk-model parameters: product risk levels calibrated."""
    add_revision(apps.get_model("risk", "RiskModelConfig"), REVISIONS[2])


class Migration(migrations.Migration):
    dependencies = [("risk", "0004_multi_dimension")]

    operations = [migrations.RunPython(store_revision, migrations.RunPython.noop)]
