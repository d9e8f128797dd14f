from django import forms

from .specs import all_specs


class UploadForm(forms.Form):
    """Upload form 上传导入文件."""

    kind = forms.ChoiceField(label="数据类型", choices=())
    file = forms.FileField(label="文件（.xlsx 或 .csv）")
    skip_invalid = forms.BooleanField(label="跳过错误行（正确行照常导入，错误行另存为拒绝文件）", required=False)

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        specs = all_specs()
        self.fields["kind"].choices = [(k, specs[k].title) for k in (kinds or specs)]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("仅支持 .xlsx 和 .csv 文件")
        return upload
