"""Edit forms 编辑表单: foreign-key choices narrowed to the user's jurisdiction."""

from yaojian.core.views_generic import ScopedModelForm

from .models import Batch, Enterprise, Licence, Product, ProductPackage, Registration


class EnterpriseForm(ScopedModelForm):
    class Meta:
        model = Enterprise
        fields = "__all__"


class LicenceForm(ScopedModelForm):
    class Meta:
        model = Licence
        fields = "__all__"


class ProductForm(ScopedModelForm):
    class Meta:
        model = Product
        fields = "__all__"


class RegistrationForm(ScopedModelForm):
    class Meta:
        model = Registration
        fields = "__all__"


class BatchForm(ScopedModelForm):
    class Meta:
        model = Batch
        fields = "__all__"


class ProductPackageForm(ScopedModelForm):
    class Meta:
        model = ProductPackage
        fields = "__all__"
