"""Default watched drug classes 默认监测药品类别: common OTC names and ingredients sold in Chinese pharmacies."""

CLASSES = [
    ("antipyretic", "退热药", "对乙酰氨基酚\n布洛芬\n阿司匹林\n安乃近\n赖氨匹林\n退热\n退烧\n解热"),
    (
        "cough_cold",
        "止咳感冒药",
        "止咳\n感冒\n氨酚\n右美沙芬\n氨溴索\n愈创甘油醚\n复方甘草\n川贝\n枇杷\n连花清瘟\n板蓝根\n伪麻黄碱",
    ),
    ("antiviral", "抗病毒药", "奥司他韦\n玛巴洛沙韦\n阿比多尔\n利巴韦林\n阿昔洛韦\n伐昔洛韦\n抗病毒"),
    (
        "antibiotic",
        "抗菌药",
        "阿莫西林\n头孢\n阿奇霉素\n罗红霉素\n克拉霉素\n左氧氟沙星\n莫西沙星\n环丙沙星\n甲硝唑\n青霉素\n多西环素",
    ),
    ("antidiarrhoeal", "止泻药", "蒙脱石\n洛哌丁胺\n小檗碱\n黄连素\n止泻\n口服补液盐\n双歧杆菌\n地衣芽孢杆菌"),
]


def ensure_default_classes(model) -> None:
    """Create the default classes that are missing (the migration, and tests that flush the tables)."""
    for order, (code, name, keywords) in enumerate(CLASSES, start=1):
        model.objects.get_or_create(code=code, defaults={"name": name, "keywords": keywords, "order": order})
