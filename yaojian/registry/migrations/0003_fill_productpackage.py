"""Fill the packaging levels 药品包装规格 of existing drugs with the 药品标识码 trace stores were written with.

Before the registry held 药品标识码, generated flows and scans derived them from the product key; giving every
existing drug those same three codes keeps existing stores resolving. A code already taken is left out."""

from django.db import migrations

from yaojian.registry.packaging import default_packages

CHUNK = 2000


def fill(apps, schema_editor):
    Product = apps.get_model("registry", "Product")
    ProductPackage = apps.get_model("registry", "ProductPackage")
    drugs = Product.objects.filter(category="drug", packages__isnull=True).values_list(
        "pk", "specification", "division_code"
    )
    rows = []
    for pk, specification, division in drugs.iterator(chunk_size=CHUNK):
        rows += [
            ProductPackage(product_id=pk, division_code=division, **values)
            for values in default_packages(pk, specification)
        ]
        if len(rows) >= CHUNK:
            ProductPackage.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    ProductPackage.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_productpackage")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
