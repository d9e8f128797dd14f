"""Edit forms 编辑表单: foreign-key choices narrowed to the user's jurisdiction."""

from yaojian.core.views_generic import ScopedModelForm

from .models import CreditRating


class CreditRatingForm(ScopedModelForm):
    class Meta:
        model = CreditRating
        fields = "__all__"
