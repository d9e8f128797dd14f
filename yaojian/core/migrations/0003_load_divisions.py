from django.db import migrations


def load_divisions(apps, schema_editor):
    from yaojian.core import divisions

    divisions.load(apps.get_model("core", "Division"), divisions.read_table())


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [migrations.RunPython(load_divisions, migrations.RunPython.noop)]
