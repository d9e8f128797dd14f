"""Default watched drug classes 默认监测药品类别 (see ``yaojian.pharmacy.defaults``)."""

from django.db import migrations

from yaojian.pharmacy.defaults import ensure_default_classes


def load(apps, schema_editor):
    ensure_default_classes(apps.get_model("pharmacy", "DrugClass"))


class Migration(migrations.Migration):
    dependencies = [("pharmacy", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
