"""Forms 表单 of case work: dictionary terms, coding decisions, parameters, duplicate review."""

from django import forms

from yaojian.adr.models import ReactionTerm
from yaojian.core.forms import ParametersForm
from yaojian.core.views_generic import label_blank_choice

from .models import DEFAULTS


class TermForm(forms.ModelForm):
    """A dictionary term 术语; new synonyms one per line (existing ones are listed on the page)."""

    new_synonyms = forms.CharField(
        label="新增同义词",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一个，保存时自动规范化",
    )

    class Meta:
        model = ReactionTerm
        fields = ["dictionary", "code", "name", "name_en", "system_organ_class", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["dictionary"].disabled = True
            self.fields["code"].disabled = True
        label_blank_choice(self.fields.values(), "请选择")

    def synonyms(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("new_synonyms", "").splitlines() if line.strip()]


class ResolveForm(forms.Form):
    """The coder's decision 编码决定: this normalised text means that term."""

    text = forms.CharField(max_length=250)
    term = forms.ModelChoiceField(
        queryset=ReactionTerm.objects.filter(active=True),
        error_messages={"required": "请先搜索并选择标准术语", "invalid_choice": "所选术语不存在或已停用"},
    )


# (parameter, label, kind, minimum, maximum)
PARAMETERS = (
    ("death_days", "死亡病例报告时限（天，0 = 获知当日）", int, 0, 60),
    ("serious_days", "严重不良反应报告时限（天）", int, 0, 60),
    ("new_days", "新的不良反应报告时限（天）", int, 0, 60),
    ("general_days", "一般不良反应报告时限（天）", int, 0, 90),
    ("sentinel_days", "哨点“即销即报”目标（天）", int, 0, 60),
    ("followup_days", "死亡病例调查报告时限（天）", int, 0, 90),
    ("near_due_days", "临近到期提醒（天）", int, 0, 30),
    ("onset_tolerance_days", "重复识别：发生日期容差（天）", int, 0, 90),
    ("duplicate_threshold", "重复识别：相似度阈值（0–1）", float, 0.0, 1.0),
    ("weight_drug", "权重：怀疑药品相同", float, 0.0, 1.0),
    ("weight_reaction", "权重：不良反应相同", float, 0.0, 1.0),
    ("weight_sex", "权重：性别相同", float, 0.0, 1.0),
    ("weight_age", "权重：年龄相同（±1 岁计一半）", float, 0.0, 1.0),
    ("weight_onset", "权重：发生日期接近", float, 0.0, 1.0),
    ("weight_batch", "权重：批号相同", float, 0.0, 1.0),
    ("weight_initials", "权重：患者姓名缩写相同", float, 0.0, 1.0),
)


class ConfigForm(ParametersForm):
    """A new version of the case-work parameters 病例处理参数; weights must sum to 1."""

    parameter_fields = PARAMETERS

    def clean(self):
        data = super().clean()
        weights = [data.get(name) for name in DEFAULTS if name.startswith("weight_")]
        if all(w is not None for w in weights) and abs(sum(weights) - 1) > 1e-6:
            raise forms.ValidationError(f"各项权重之和应为 1（现为 {sum(weights):.3f}）")
        return data
