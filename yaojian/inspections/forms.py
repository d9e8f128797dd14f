"""Edit forms 编辑表单: foreign-key choices narrowed to the user's jurisdiction."""

from yaojian.core.views_generic import ScopedModelForm

from .models import Defect, Inspection


class InspectionForm(ScopedModelForm):
    class Meta:
        model = Inspection
        fields = "__all__"


class DefectForm(ScopedModelForm):
    class Meta:
        model = Defect
        fields = "__all__"
