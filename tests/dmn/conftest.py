"""Shared helpers for the DMN tests: where the models live, and loading one by name."""

from __future__ import annotations

from pathlib import Path

from liucheng.dmn import DecisionModel, parse_dmn

MODELS = Path(__file__).parent / "models"
BROKEN = MODELS / "broken"


def load(name: str) -> DecisionModel:
    """Parse ``tests/dmn/models/<name>``; messages name the file by its base name."""
    return parse_dmn(MODELS / name, name)
