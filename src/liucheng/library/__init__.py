"""The bundled process library: BPMN models with the Python handlers their service tasks call."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def model_path(name: str) -> Path:
    """The path of a bundled model file, e.g. ``model_path("pass_application.bpmn")``."""
    return Path(str(files("liucheng.library").joinpath(name)))
