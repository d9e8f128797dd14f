"""Edit forms 编辑表单: foreign-key choices narrowed to the user's jurisdiction."""

from yaojian.core.views_generic import ScopedModelForm

from .models import SamplingTest


class SamplingTestForm(ScopedModelForm):
    class Meta:
        model = SamplingTest
        fields = "__all__"
