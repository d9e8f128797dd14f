"""Edit forms 编辑表单: foreign-key choices narrowed to the user's jurisdiction."""

from yaojian.core.views_generic import ScopedModelForm

from .models import AdrReport


class AdrReportForm(ScopedModelForm):
    class Meta:
        model = AdrReport
        fields = "__all__"
