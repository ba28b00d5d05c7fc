"""``liucheng demo``: the park access-pass process (P1), three cases from start to finish.

Everything goes through the public ``Engine`` API exactly as an embedding application would use
it; the clock is frozen at a fixed morning so the output is the same on every run, and moved
forward to show the review reminder timer firing.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from liucheng.api import Case, Engine
from liucheng.engine.clock import Clock
from liucheng.i18n import _, language
from liucheng.library import model_path
from liucheng.library.passes import PassOffice

SHANGHAI = ZoneInfo("Asia/Shanghai")
_CJK = re.compile(r"^([^A-Za-z]*[\u3400-\u9fff][^A-Za-z]*?)\s+([A-Za-z].*)$")


def localised(name: str | None) -> str:
    """Pick one language out of a bilingual element name such as ``保卫部审核 Security reviews``."""
    if not name:
        return ""
    match = _CJK.match(name)
    if not match:
        return name
    return match.group(1).strip() if language() == "zh-CN" else match.group(2).strip()


class DemoRunner:
    def __init__(self, console: Console) -> None:
        self.console = console
        start = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)
        self.engine = Engine(clock=Clock.frozen(start))
        self.office = PassOffice(year=start.year)
        self.office.install(self.engine)

    def say(self, text: str) -> None:
        self.console.print(text, soft_wrap=True)

    def now(self) -> str:
        return self.engine.clock.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")

    def show_waiting(self, case: Case) -> None:
        for task in self.engine.tasks(instance=case.id):
            groups = ", ".join(task.candidate_groups)
            self.say(
                "    "
                + _("waiting: {task} (for {groups})", task=localised(task.name), groups=groups)
            )
        if case.is_ended:
            self.say("    " + _("case ended: {state}", state=_(case.state.value)))

    def work(self, case: Case, node: str, who: str, values: dict[str, Any]) -> Case:
        task = next(t for t in self.engine.tasks(instance=case.id) if t.node == node)
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        self.say(
            f"[dim]{self.now()}[/dim]  "
            + _("{who} completes '{task}'", who=who, task=localised(task.name))
            + (f"  [cyan]{shown}[/cyan]" if shown else "")
        )
        case = self.engine.complete(task.id, values)
        self.show_waiting(case)
        return case

    def start(self, title: str, variables: dict[str, Any], key: str) -> Case:
        self.say("")
        self.say(f"[bold]{title}[/bold]")
        case = self.engine.start("pass_application", variables, business_key=key)
        self.say(f"[dim]{self.now()}[/dim]  " + _("application {key} submitted", key=key))
        self.show_waiting(case)
        return case

    def run(self) -> None:
        engine = self.engine
        self.say("[bold]" + _("Liucheng demo: park vehicle access pass (P1)") + "[/bold]")
        for d in engine.deploy(model_path("pass_application.bpmn")):
            self.say(
                _("deployed {process} version {version}", process=d.process_id, version=d.version)
            )

        external = self.start(
            _("Case 1: an external vehicle (deposit, yellow pass)"),
            {
                "applicant_type": "external",
                "holder": "张伟 (华东物流有限公司)",
                "plate": "沪A·12345",
                "id_document": "driving_licence",
                "renewal": False,
            },
            "PASS-2026-0001",
        )
        external = self.work(
            external,
            "issue_contact_letter",
            _("Sponsoring department"),
            {"reason": "长期送货 regular deliveries", "valid_to": "2027-06-30"},
        )
        external = self.work(
            external, "collect_deposit", _("Finance"), {"deposit_received": Decimal("50.00")}
        )
        engine.clock.advance(days=2, minutes=1)
        fired = engine.run_due_jobs()
        self.say(
            f"[dim]{self.now()}[/dim]  "
            + _("{n} timer(s) fired: the security office is reminded", n=fired)
        )
        external = self.work(external, "security_review", _("Security office"), {"approved": True})

        employee = self.start(
            _("Case 2: an employee's car (no deposit, light green pass, no expiry)"),
            {
                "applicant_type": "employee",
                "holder": "李娜",
                "plate": "沪B·67890",
                "id_document": "id_card",
                "renewal": False,
            },
            "PASS-2026-0002",
        )
        employee = self.work(
            employee, "issue_contact_letter", _("Sponsoring department"), {"reason": "通勤 commute"}
        )
        employee = self.work(employee, "security_review", _("Security office"), {"approved": True})

        rejected = self.start(
            _("Case 3: an external vehicle rejected after paying (deposit refunded)"),
            {
                "applicant_type": "external",
                "holder": "王强",
                "plate": "苏E·24680",
                "id_document": "vehicle_registration",
                "renewal": False,
            },
            "PASS-2026-0003",
        )
        rejected = self.work(
            rejected,
            "issue_contact_letter",
            _("Sponsoring department"),
            {"reason": "临时施工 building works", "valid_to": "2027-01-31"},
        )
        rejected = self.work(
            rejected, "collect_deposit", _("Finance"), {"deposit_received": Decimal("50.00")}
        )
        rejected = self.work(rejected, "security_review", _("Security office"), {"approved": False})
        rejected = self.work(
            rejected, "refund_deposit", _("Finance"), {"deposit_refunded": Decimal("50.00")}
        )
        self.summary([external, employee, rejected])

    def summary(self, cases: list[Case]) -> None:
        table = Table(title=_("Cases"))
        for header in (
            _("case"),
            _("plate"),
            _("state"),
            _("pass"),
            _("colour"),
            _("valid until"),
            _("deposit held"),
            _("steps"),
        ):
            table.add_column(header)
        for case in cases:
            v = self.engine.instance(case.id).variables
            held = v.get("deposit_held")
            if held is not None and v.get("deposit_refunded"):
                held = Decimal(held) - Decimal(v["deposit_refunded"])
            table.add_row(
                case.business_key or case.id,
                str(v.get("plate", "")),
                _(case.state.value),
                str(v.get("pass_number") or "-"),
                _(str(v["pass_colour"])) if v.get("pass_colour") else "-",
                str(v.get("valid_until") or _("no expiry")) if v.get("pass_number") else "-",
                f"¥{held}" if held is not None else "-",
                str(len(self.engine.path(case.id))),
            )
        self.console.print()
        self.console.print(table)
        path = " → ".join(self.engine.path(cases[0].id))
        self.say(_("Path of case 1: {path}", path=path))


def run_demo(console: Console) -> None:
    if not console.is_terminal and console.width < 120:
        # Piped output: Rich would assume 80 columns and squeeze the summary table.
        console = Console(width=120, highlight=False)
    DemoRunner(console).run()
