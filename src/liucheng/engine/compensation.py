"""Compensation and transactions: undoing work that has already completed.

A BPMN activity with a compensation boundary event names, through an association, a *handler*
(an activity marked ``isForCompensation``) that undoes it: refund the deposit that was taken,
revoke the pass that was issued.  Nothing happens when the activity completes except that the
case remembers it (``Compensable``, in the scope it ran in).  Later a compensation throw event
(intermediate or end) undoes the completed activities of its scope — all of them, or the one its
``activityRef`` names — most recent first, one handler at a time, while the throwing token waits
(``waitForCompletion``).  Handlers are ordinary activities: a user task "refund the deposit"
waits in the inbox like any other.

Scopes, as Camunda and the specification have them:

* A subprocess that completes takes the records of its body with it, with its variables as they
  were at the end.  Compensating the subprocess runs its own handler if it has one, otherwise
  undoes its body's activities (again most recent first) with those variables restored.
* A scope that is cancelled (interrupted, terminated) forgets its records: only work that
  completed can be compensated.
* A throw inside an event subprocess undoes the work of the scope the event subprocess runs in
  (the usual "error event subprocess compensates what was done" pattern).
* Each multi-instance instance is compensated on its own, with its element variable restored.

A *transaction* is a subprocess with a cancel end event: reaching it cancels whatever else runs
in the transaction, undoes its completed work as a compensation throw would, and then leaves the
transaction through its cancel boundary event.

The functions here take the ``Run`` they act for; ``Run`` calls them from its few hooks (an
activity completing, a scope ending or being cancelled, the throw and cancel behaviours).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from liucheng.engine.graph import Node
from liucheng.engine.state import (
    Compensable,
    CompensationStep,
    HistoryKind,
    Instance,
    ScopeState,
    Token,
    TokenState,
)

if TYPE_CHECKING:
    from liucheng.engine.executor import Run


def completed(run: Run, node: Node, scope: int, variables: dict[str, Any] | None = None) -> None:
    """An activity with a compensation handler completed in ``scope``: remember it."""
    inst = run.inst
    inst.compensables.append(Compensable(inst.new_id(), node.id, scope, variables))


def scope_completed(run: Run, scope: ScopeState, node: Node, owner: Token) -> None:
    """A subprocess body ended normally: its records go with a record of the subprocess, which
    is itself compensable if it has a handler or anything inside to undo."""
    inst = run.inst
    inner = [c for c in inst.compensables if c.scope == scope.id]
    if inner:
        inst.compensables = [c for c in inst.compensables if c.scope != scope.id]
    if inner or node.compensation is not None:
        record = Compensable(inst.new_id(), node.id, owner.scope, dict(scope.variables), inner)
        inst.compensables.append(record)


def rehome(inst: Instance, scope: ScopeState, target: int) -> None:
    """A scope that is not a subprocess body ended normally (a multi-instance instance or
    body): records made in it belong to ``target`` now, keeping the ended scope's variables."""
    for c in inst.compensables:
        if c.scope == scope.id:
            c.scope = target
            if scope.variables:
                c.variables = {**scope.variables, **(c.variables or {})}


def scope_cancelled(inst: Instance, scope_id: int) -> None:
    """A scope was cancelled: what completed in it can no longer be compensated."""
    if inst.compensables:
        inst.compensables = [c for c in inst.compensables if c.scope != scope_id]


def token_cancelled(run: Run, tok: Token) -> None:
    """A token waiting for compensation was cancelled: its queued handlers will not run (the
    running one is cancelled with its scope, see ``is_handler_scope``)."""
    inst = run.inst
    if inst.compensating:
        inst.compensating = [s for s in inst.compensating if s.thrower != tok.id]


def is_handler_scope(run: Run, scope: ScopeState, owner: Token) -> bool:
    """Whether ``scope`` is one a compensation handler runs in for the waiting ``owner``.

    (A handler that is itself a subprocess or a loop has scopes of its own too, but those are
    owned by the handler's token, which stands at the handler.)
    """
    return (
        scope.node is not None
        and scope.node != owner.node
        and run.proc.nodes[scope.node].for_compensation
    )


def throw(run: Run, tok: Token, node: Node) -> bool:
    """A compensation throw event: undo the completed work of the token's scope.

    Returns True while handlers run (the token waits for them), False when there was nothing
    to undo and the token goes on at once.
    """
    run.record(HistoryKind.COMPENSATION_THROWN, node.id, tok.id, detail=node.compensate_ref)
    scopes = run.inst.scopes
    sid = tok.scope
    owner = scopes[sid].node
    parent = scopes[sid].parent
    if owner is not None and parent is not None and run.proc.nodes[owner].model.triggered_by_event:
        sid = parent  # from an event subprocess: the work of the scope it runs in
    return start(run, tok, _take(run.inst, sid, node.compensate_ref), sid)


def cancel(run: Run, tok: Token) -> None:
    """A cancel end event: cancel the rest of the transaction, undo its completed work, then
    leave it through its cancel boundary event."""
    inst = run.inst
    body = inst.scopes[tok.scope]
    run.record(HistoryKind.TRANSACTION_CANCELLED, body.node, tok.id)
    run.cancel_scope(body.id, keep=tok)
    if not start(run, tok, _take(inst, body.id, None), body.id):
        leave_transaction(run, tok)


def start(run: Run, tok: Token, chosen: list[Compensable], scope: int) -> bool:
    """Queue the handlers undoing ``chosen`` (most recent first) and run the first."""
    steps: list[CompensationStep] = []
    for record in sorted(chosen, key=_newest_first):
        _plan(run, record, tok.id, scope, None, steps)
    if not steps:
        return False
    run.inst.compensating.extend(steps)
    tok.state = TokenState.WAITING
    next_handler(run, tok)
    return True


def next_handler(run: Run, thrower: Token) -> None:
    """Run the next handler queued for ``thrower``, or let it go on when none is left."""
    inst = run.inst
    step = next((s for s in inst.compensating if s.thrower == thrower.id), None)
    if step is None:
        _done(run, thrower)
        return
    inst.compensating.remove(step)
    variables = dict(step.variables) if step.variables else {}
    scope = ScopeState(inst.new_id(), step.scope, step.handler, thrower.id, variables)
    inst.scopes[scope.id] = scope
    run.schedule(run.new_token(step.handler, scope.id))


def leave_transaction(run: Run, tok: Token) -> None:
    """The cancelled transaction's work is undone: the cancel end event completes, the
    transaction is cancelled and its cancel boundary event takes the case on."""
    inst = run.inst
    body = inst.scopes[tok.scope]
    assert body.token is not None and body.node is not None
    tx_tok = run.tokens[body.token]
    boundary_id = run.proc.nodes[body.node].cancel_boundary
    assert boundary_id is not None  # checked at deploy
    run.record(HistoryKind.ELEMENT_COMPLETED, tok.node, tok.id)
    del run.tokens[tok.id]
    outer = tx_tok.scope
    run.cancel_token(tx_tok)
    boundary = run.proc.nodes[boundary_id]
    new = run.new_token(boundary.id, outer)
    run.record(HistoryKind.ELEMENT_STARTED, boundary.id, new.id)
    run.leave(new, boundary)


def renamed(inst: Instance, renames: Mapping[str, str]) -> None:
    """Migration to another version: rename the elements compensation refers to."""

    def walk(records: list[Compensable]) -> None:
        for c in records:
            c.node = renames.get(c.node, c.node)
            walk(c.inner)

    walk(inst.compensables)
    for step in inst.compensating:
        step.handler = renames.get(step.handler, step.handler)


def places(inst: Instance) -> set[str]:
    """Every element compensation refers to (a migration must find each in the new version)."""
    found: set[str] = set()

    def walk(records: list[Compensable]) -> None:
        for c in records:
            found.add(c.node)
            walk(c.inner)

    walk(inst.compensables)
    found.update(step.handler for step in inst.compensating)
    return found


def _done(run: Run, thrower: Token) -> None:
    node = run.proc.nodes[thrower.node]
    if node.behaviour == "end_cancel":
        leave_transaction(run, thrower)
    elif node.behaviour == "end_compensation":
        run.leave(thrower, node, ())
    else:
        run.leave(thrower, node)


def _newest_first(record: Compensable) -> int:
    return -record.id


def _take(inst: Instance, scope: int, ref: str | None) -> list[Compensable]:
    """Remove and return the records to compensate: every record of ``scope``, or those of the
    activity ``ref`` (also inside completed subprocesses of the scope, their variables kept)."""
    if ref is None:
        chosen = [c for c in inst.compensables if c.scope == scope]
        if chosen:
            inst.compensables = [c for c in inst.compensables if c.scope != scope]
        return chosen
    chosen = []
    kept = []
    for c in inst.compensables:
        if c.scope != scope:
            kept.append(c)
        elif c.node == ref:
            chosen.append(c)
        else:
            chosen.extend(_take_inner(c, ref, c.variables))
            kept.append(c)
    inst.compensables = kept
    return chosen


def _take_inner(record: Compensable, ref: str, outer: dict[str, Any] | None) -> list[Compensable]:
    """Records of ``ref`` anywhere inside ``record``, removed from it; each gets the variables
    of the subprocesses around it folded into its own."""
    found: list[Compensable] = []
    kept: list[Compensable] = []
    for c in record.inner:
        variables = {**(outer or {}), **(c.variables or {})} or None
        if c.node == ref:
            found.append(Compensable(c.id, c.node, c.scope, variables, c.inner))
        else:
            found.extend(_take_inner(c, ref, variables))
            kept.append(c)
    record.inner = kept
    return found


def _plan(
    run: Run,
    record: Compensable,
    thrower: int,
    scope: int,
    outer: dict[str, Any] | None,
    steps: list[CompensationStep],
) -> None:
    """The handler steps that undo ``record``: its own handler, or (a subprocess without one)
    its body's records, most recent first."""
    variables = {**(outer or {}), **(record.variables or {})} or None
    node = run.proc.nodes.get(record.node)
    handler = node.compensation if node is not None else None
    if handler is not None:
        steps.append(CompensationStep(thrower, handler, scope, variables))
        return
    for inner in sorted(record.inner, key=_newest_first):
        _plan(run, inner, thrower, scope, variables, steps)
