"""Shared helpers for the BPMN layer tests: where the fixture models live."""

from __future__ import annotations

from pathlib import Path

MODELS = Path(__file__).parent / "models"
GOOD_MODELS = sorted(MODELS.glob("*.bpmn"))
INVALID_MODELS = sorted(
    p for p in (MODELS / "invalid").glob("*.bpmn") if p.stem != "unknown_element"
)
HOSTILE = MODELS / "hostile"
