"""Left-menu entries 导航菜单, shown only where the user's role may look."""

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from . import access

# (label, url name, model label whose view permission opens it)
MENU = [
    ("驾驶舱", "risk:dashboard", "risk.riskassessment"),
    ("企业档案", "registry:enterprise-list", "registry.enterprise"),
    ("许可证", "registry:licence-list", "registry.licence"),
    ("产品品种", "registry:product-list", "registry.product"),
    ("监督检查", "inspections:inspection-list", "inspections.inspection"),
    ("抽检", "sampling:samplingtest-list", "sampling.samplingtest"),
    ("不良反应", "adr:adrreport-list", "adr.adrreport"),
    ("信号检测", "signals:signal-list", "signals.signal"),
    ("编码队列", "casework:coding-queue", "adr.reactionterm"),
    ("报告时限", "casework:deadline-list", "adr.adrreport"),
    ("重复报告", "casework:duplicate-list", "casework.duplicatecandidate"),
    ("投诉举报", "complaints:complaint-list", "complaints.complaint"),
    ("行政处罚", "enforcement:penalty-list", "enforcement.penalty"),
    ("信用评价", "credit:creditrating-list", "credit.creditrating"),
    ("智慧药店", "pharmacy:overview", "pharmacy.alert"),
    ("实名购药", "pharmacy:record-list", "pharmacy.purchaserecord"),
    ("哨点监测", "sentinel:performance", "sentinel.sentinelsite"),
    ("聚集性信号", "sentinel:cluster-list", "sentinel.cluster"),
    ("应急处置", "sentinel:board", "sentinel.response"),
    ("分级监管", "risk:riskassessment-list", "risk.riskassessment"),
    ("产品风险", "risk:productriskassessment-list", "risk.productriskassessment"),
    ("技术帮扶", "risk:assistancecase-list", "risk.assistancecase"),
    ("推送清单", "risk:push-list", "risk.push"),
    ("药品追溯", "trace:code", "trace.traceevent"),
    ("追溯线索", "trace:tracelead-list", "trace.tracelead"),
    ("数据导入", "imports:job-list", "imports.importjob"),
    ("审计日志", "audit-list", "core.auditrecord"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, model_label in MENU:
        try:
            model = apps.get_model(model_label)
            if access.has_perm(user, model, access.VIEW):
                items.append({"label": label, "url": reverse(url_name), "name": url_name})
        except (LookupError, NoReverseMatch):
            continue
    return {"nav_items": items}
