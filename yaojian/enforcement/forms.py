"""Edit forms 编辑表单: foreign-key choices narrowed to the user's jurisdiction."""

from yaojian.core.views_generic import ScopedModelForm

from .models import Penalty


class PenaltyForm(ScopedModelForm):
    class Meta:
        model = Penalty
        fields = "__all__"
