"""Service handlers of the park access-pass process (P1).

The pass registry and deposit ledger proper belong to ``apps/passes``; until that module exists,
``PassOffice`` numbers passes and counts reminders in memory, which is all the process needs to
run end to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from liucheng.api import Engine
from liucheng.errors import BpmnError


@dataclass
class PassOffice:
    """Numbers passes per year: ``TX-2026-00001`` and so on."""

    year: int = field(default_factory=lambda: date.today().year)
    issued: int = 0
    reminders: list[str] = field(default_factory=list)

    def issue_pass(self, variables: dict[str, Any]) -> dict[str, Any]:
        applicant_type = variables.get("applicant_type")
        if applicant_type not in ("external", "employee", "guest"):
            raise BpmnError("invalid_applicant_type", f"unknown applicant type {applicant_type!r}")
        self.issued += 1
        number = f"TX-{self.year}-{self.issued:05d}"
        # Employees' and guests' passes never expire; external passes last for the period of use
        # stated in the sponsoring department's contact letter.
        valid_until = variables.get("valid_to") if applicant_type == "external" else None
        return {"pass_number": number, "valid_until": valid_until}

    def send_reminder(self, variables: dict[str, Any]) -> dict[str, Any]:
        self.reminders.append(str(variables.get("plate", "")))
        return {"reminders_sent": int(variables.get("reminders_sent") or 0) + 1}

    def install(self, engine: Engine) -> None:
        engine.register_service("issue_pass", self.issue_pass)
        engine.register_service("send_reminder", self.send_reminder)
