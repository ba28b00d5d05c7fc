"""What each workload does, the same for both engines.

A workload is a loop of cases.  Each engine side turns a workload into a *runner*: a function
that runs ``n`` cases (or ``n`` round trips) to their end and returns how many really ended the
way the model says they should.  The timing code refuses a runner that returns fewer than it was
asked for, so a benchmark that silently stopped working cannot print a figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

MODELS = Path(__file__).parent / "models"

Runner = Callable[[int], int]


@dataclass(frozen=True, slots=True)
class Workload:
    key: str
    title: str
    unit: str  # what one counted item is: a case, or a round trip


PASS_APPLICATION = Workload("pass_application", "access pass (P1), half external", "case")
STRAIGHT_LINE = Workload("straight_line", "10 user tasks in a line", "case")
PARALLEL_BLOCK = Workload("parallel_block", "3-branch parallel block", "case")
ROUND_TRIP = Workload("round_trip", "JSON round trip, waiting case", "round trip")

WORKLOADS = (PASS_APPLICATION, STRAIGHT_LINE, PARALLEL_BLOCK, ROUND_TRIP)

# == workload 1: the access-pass process ==========================================================
# Even-numbered cases are external vehicles (contact letter, deposit, review: three user tasks);
# odd-numbered ones are employees (contact letter, review: two).  Every review approves, so every
# case ends at "pass issued".


def pass_start_variables(i: int) -> dict[str, Any]:
    external = i % 2 == 0
    return {
        "applicant_type": "external" if external else "employee",
        "renewal": False,
        "holder": f"holder {i}",
        "plate": f"沪A·{i:05d}",
    }


PASS_TASK_INPUTS: dict[str, dict[str, Any]] = {
    "issue_contact_letter": {"reason": "regular deliveries", "valid_to": "2027-06-30"},
    "collect_deposit": {"deposit_received": Decimal("50.00")},
    "security_review": {"approved": True},
}


def pass_outcome_ok(variables: dict[str, Any]) -> bool:
    """Did a finished pass case take the branch its applicant type asks for, and issue a pass?"""
    external = variables.get("applicant_type") == "external"
    return (
        bool(variables.get("pass_number"))
        and variables.get("pass_colour") == ("yellow" if external else "light green")
        and (variables.get("deposit_held") == 50) == external
    )


# == workloads 2 and 3: plain structures ===========================================================
STRAIGHT_LINE_STEPS = tuple(f"step_{i}" for i in range(1, 11))
PARALLEL_BRANCHES = ("branch_a", "branch_b", "branch_c")


def step_input(node: str) -> dict[str, Any]:
    return {f"{node}_done": True}


def all_steps_done(variables: dict[str, Any], nodes: tuple[str, ...]) -> bool:
    return all(variables.get(f"{node}_done") is True for node in nodes)


# == workload 4: the JSON round trip ==============================================================
# One external pass case, after its contact letter and deposit, waiting at the security review
# (with its two-day reminder timer armed): serialise it and restore it, again and again.
ROUND_TRIP_WAITS_AT = "security_review"
