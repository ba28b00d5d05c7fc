"""Every message the command line and the demo show has a Chinese translation."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import liucheng

SRC = Path(liucheng.__file__).parent
SHOWN_BY = ("cli.py", "demo.py", "calendar/business.py")


def _messages() -> set[str]:
    found = set()
    for name in SHOWN_BY:
        tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_shown_message_is_translated_to_chinese() -> None:
    catalogue = json.loads((SRC / "locale" / "zh_CN.json").read_text(encoding="utf-8"))
    missing = sorted(_messages() - set(catalogue))
    assert missing == []


def test_translations_keep_their_placeholders() -> None:
    import string

    catalogue = json.loads((SRC / "locale" / "zh_CN.json").read_text(encoding="utf-8"))
    for english, chinese in catalogue.items():
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(chinese) if f}, english
