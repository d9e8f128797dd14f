from django.db import migrations

from yaojian.risk.defaults import REVISIONS, add_revision


def store_revision(apps, schema_editor):
    """Version 5 of the risk-model parameters: the trace-lead factor 追溯异常线索."""
    add_revision(apps.get_model("risk", "RiskModelConfig"), REVISIONS[3])


class Migration(migrations.Migration):
    dependencies = [("risk", "0005_product_calibration")]

    operations = [migrations.RunPython(store_revision, migrations.RunPython.noop)]
