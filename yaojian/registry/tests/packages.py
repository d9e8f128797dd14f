"""Test helper: give a drug of the test world its three default packaging levels 药品包装规格."""

from yaojian.registry.models import Product, ProductPackage
from yaojian.registry.packaging import default_packages


def register_levels(product: Product) -> list[str]:
    """The drug's 药品标识码 by level (unit, case, pallet), registering the default levels it lacks."""
    for values in default_packages(product.pk, product.specification):
        ProductPackage.objects.get_or_create(product=product, level=values.pop("level"), defaults=values)
    return list(product.packages.order_by("level").values_list("identifier", flat=True))
