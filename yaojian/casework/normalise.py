"""Normalised reaction text 术语规范化: the key under which a free-text reaction meets the dictionary.

``normalise`` folds what does not change meaning: full-width forms (NFKC: ＡＬＴ→alt, （）→()),
Latin case, spaces and punctuation, and the arrows reporters use for 升高/降低. ``candidates`` adds
fallback keys with filler words trimmed (皮疹反应 → 皮疹, 出现头晕 → 头晕); the exact key is always
tried first, so a dictionary term that itself ends in 反应 (过敏反应, 输液反应) is never cut.
"""

import unicodedata

# Arrows and signs that carry meaning in lab findings (ALT↑ = ALT升高).
_REPLACEMENTS = {"↑": "升高", "↓": "降低", "+": "阳性"}
# Filler around a reaction name, tried only when the exact text is not in the dictionary.
_PREFIXES = ("患者出现", "出现", "自觉", "自诉", "诉")
_SUFFIXES = ("反应", "症状", "现象", "等")
_MIN_CORE = 2  # never trim a term down to a single character (痒反应 stays a whole)


def normalise(text: str) -> str:
    """Fold width, case, spaces and punctuation; keep letters and digits of every script."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    for sign, word in _REPLACEMENTS.items():
        text = text.replace(sign, word)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def candidates(text: str) -> list[str]:
    """Keys to look up, best first: the normalised text, then with a filler prefix and/or suffix trimmed."""
    key = normalise(text)
    keys = [key] if key else []
    core = key
    for prefix in _PREFIXES:
        if core.startswith(prefix) and len(core) - len(prefix) >= _MIN_CORE:
            core = core[len(prefix) :]
            break
    for suffix in _SUFFIXES:
        if core.endswith(suffix) and len(core) - len(suffix) >= _MIN_CORE:
            core = core[: -len(suffix)]
            break
    if core and core != key:
        keys.append(core)
    return keys
