"""Liucheng (流程): run an organisation's service processes as executable BPMN 2.0.

The public Python API is re-exported here; everything else is an implementation detail.
"""

from liucheng.api import Case, Deployment, Engine, Job, JobKind
from liucheng.engine.clock import Clock
from liucheng.engine.state import HistoryEvent, HistoryKind, Incident, InstanceState, UserTask
from liucheng.errors import (
    BpmnError,
    BpmnParseError,
    BpmnValidationError,
    ConflictError,
    CorrelationError,
    ExpressionError,
    LiuchengError,
    ScriptError,
    UnknownInstanceError,
    UnknownProcessError,
    UnknownTaskError,
    VariableTypeError,
)
from liucheng.fileref import FileRef

__version__ = "0.1.0"

__all__ = [
    "BpmnError",
    "BpmnParseError",
    "BpmnValidationError",
    "Case",
    "Clock",
    "ConflictError",
    "CorrelationError",
    "Deployment",
    "Engine",
    "ExpressionError",
    "FileRef",
    "HistoryEvent",
    "HistoryKind",
    "Incident",
    "InstanceState",
    "Job",
    "JobKind",
    "LiuchengError",
    "ScriptError",
    "UnknownInstanceError",
    "UnknownProcessError",
    "UnknownTaskError",
    "UserTask",
    "VariableTypeError",
    "__version__",
]
