from django.db import migrations

from yaojian.risk.defaults import REVISIONS, add_revision


def store_revision(apps, schema_editor):
    """Version 3 of the risk-model parameters: the multi-dimension factor, substantiated complaints weighed more."""
    add_revision(apps.get_model("risk", "RiskModelConfig"), REVISIONS[1])


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_scheduled_run")]

    operations = [migrations.RunPython(store_revision, migrations.RunPython.noop)]
