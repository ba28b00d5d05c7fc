"""Translation of user-visible text (zh-CN and en).

Messages are written in English in the code and looked up in ``locale/<lang>.json``; a missing
entry falls back to the English text, so an untranslated string is visible but never an error.
The language comes from ``set_language`` or, by default, ``LIUCHENG_LANG`` / ``LANG``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib.resources import files

SUPPORTED = ("en", "zh-CN")
_current: str | None = None


def _normalise(tag: str | None) -> str:
    if tag and tag.lower().replace("_", "-").startswith("zh"):
        return "zh-CN"
    return "en"


def language() -> str:
    if _current is not None:
        return _current
    return _normalise(os.environ.get("LIUCHENG_LANG") or os.environ.get("LANG"))


def set_language(tag: str | None) -> None:
    global _current
    _current = _normalise(tag) if tag else None


@cache
def _catalogue(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    text = files("liucheng.locale").joinpath(f"{lang.replace('-', '_')}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def _(message: str, /, **values: object) -> str:
    """Translate ``message`` and fill its ``{name}`` placeholders."""
    text = _catalogue(language()).get(message, message)
    return text.format(**values) if values else text
