"""A parsed DMN file, ready to evaluate: the decision requirements graph and its logic.

Evaluating a decision evaluates the decisions it requires first (each once per call, in
dependency order, without recursion so a long chain cannot exhaust the stack) and gives each
decision a scope made of:

* the caller's variables (converted to FEEL values once per call; Camunda-style models read
  them directly, DMN models through ``inputData`` of the same name);
* the results of its *directly* required decisions, under their variable names;
* the business knowledge models and decision services it requires, as FEEL functions.

A knowledge model's body sees only its parameters and the knowledge it requires itself, as DMN
prescribes; it does not see the caller's variables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from liucheng.errors import ExpressionError
from liucheng.expr.feel import FeelFunction
from liucheng.expr.feel.clock import Budget
from liucheng.expr.feel.values import to_feel

from . import compile as c
from .errors import DmnEvaluationError, Where
from .result import MAP_MODES, DecisionResult, map_decision_result
from .table import DecisionTable
from .types import ItemType


@dataclass(frozen=True, slots=True)
class InputData:
    """An ``inputData`` element: a value the caller provides under ``name``."""

    id: str
    name: str
    type: ItemType | None = field(repr=False)
    where: Where = field(repr=False)


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision: what it requires, and its logic (a table, another expression, or none).

    ``variable`` is the name under which its result is visible to the decisions that require
    it (the ``variable`` element, else the decision's name).  ``single``: the declared type
    is one value, so a one-item list result is unwrapped (DMN's singleton-list conversion).
    """

    id: str
    name: str
    variable: str
    required_decisions: tuple[str, ...] = field(repr=False)
    required_inputs: tuple[str, ...] = field(repr=False)
    knowledge: tuple[str, ...] = field(repr=False)
    logic: DecisionTable | c.Expr | None = field(repr=False)
    kind: str = field(repr=False)
    type: ItemType | None = field(repr=False)
    where: Where = field(repr=False)
    single: bool = field(default=False, repr=False)


@dataclass(frozen=True, slots=True)
class KnowledgeModel:
    """A business knowledge model: a function with parameters, body and required knowledge."""

    id: str
    name: str
    variable: str
    params: tuple[str, ...]
    body: c.Expr | None = field(repr=False)
    knowledge: tuple[str, ...] = field(repr=False)
    where: Where = field(repr=False)


@dataclass(frozen=True, slots=True)
class DecisionService:
    """A decision service: output decisions computed from input decisions and input data.

    Invoked as a function its parameters are the input data, then the input decisions'
    variables, in document order (as the TCK reads DMN 1.3); one output decision gives its
    value, several a dict.
    """

    id: str
    name: str
    variable: str
    outputs: tuple[str, ...]
    input_decisions: tuple[str, ...]
    input_data: tuple[str, ...]
    params: tuple[str, ...]
    where: Where = field(repr=False)


class DecisionModel:
    """A deployed DMN file.  Build one with :func:`liucheng.dmn.parse_dmn`.

    ``decisions``, ``input_data``, ``knowledge_models`` and ``services`` map ids to the
    elements; :meth:`evaluate` and :meth:`evaluate_detailed` take a decision's id or name.
    A model is not changed after parsing, so one instance can serve many threads.
    """

    def __init__(
        self,
        *,
        id: str | None,
        name: str | None,
        namespace: str | None,
        source: str | None,
        version: str,
        decisions: dict[str, Decision],
        input_data: dict[str, InputData],
        knowledge_models: dict[str, KnowledgeModel],
        services: dict[str, DecisionService],
        types: Mapping[str, ItemType],
    ) -> None:
        self.id = id
        self.name = name
        self.namespace = namespace
        self.source = source
        self.dmn_version = version
        self.decisions = decisions
        self.input_data = input_data
        self.knowledge_models = knowledge_models
        self.services = services
        self._types = types
        self._by_name = {d.name: d.id for d in decisions.values()}
        for s in services.values():
            self._by_name.setdefault(s.name, s.id)
        self._functions: dict[str, FeelFunction] = {}
        self._scopes: dict[str, dict[str, FeelFunction]] = {}
        for k in knowledge_models.values():
            self._functions[k.id] = self._bkm_function(k)
        for s in services.values():
            self._functions[s.id] = self._service_function(s)
        owners: list[Decision | KnowledgeModel] = [*decisions.values(), *knowledge_models.values()]
        for owner in owners:
            self._scopes[owner.id] = {
                self._function_name(ref): self._functions[ref] for ref in owner.knowledge
            }
        self._typed_inputs = [(i.name, i.type, i.where) for i in input_data.values() if i.type]

    def __repr__(self) -> str:
        return f"DecisionModel({self.source or self.name!r}, decisions={list(self._by_name)})"

    # -- public API ----------------------------------------------------------------------------
    def evaluate(self, decision: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The result of ``decision`` (id or name) for ``variables``, as plain Python values.

        One output → the value; several outputs → a dict by output name; a multiple-hit table
        → a list; numbers are ``Decimal``.  Raises DmnEvaluationError naming the decision, rule
        or input when the model's rules are broken by this data.
        """
        return self.evaluate_detailed(decision, variables).value

    def evaluate_detailed(
        self, decision: str, variables: Mapping[str, Any] | None = None
    ) -> DecisionResult:
        """Like :meth:`evaluate`, with the matched rules and the required decisions' results."""
        key = self._key(decision)
        base = self._inputs(variables or {})
        # One work budget for the whole evaluation: FEEL loops inside knowledge models called
        # from other expressions count against it rather than starting their own.
        Budget.enter()
        try:
            return self._evaluate(key, base)
        finally:
            Budget.exit()

    def decision(self, decision: str) -> Decision:
        """The decision with this id or name (DmnEvaluationError if there is none)."""
        key = self._key(decision)
        if key not in self.decisions:
            raise DmnEvaluationError(f"'{decision}' is a decision service, not a decision")
        return self.decisions[key]

    def required_inputs(self, decision: str) -> list[str]:
        """Names of the input data ``decision`` needs, directly or through its requirements,
        in the order the file lists them (what a form asking for them would show)."""
        seen: set[str] = set()
        needed: set[str] = set()
        todo = [self.decision(decision)]
        while todo:
            d = todo.pop()
            if d.id in seen:
                continue
            seen.add(d.id)
            needed.update(d.required_inputs)
            todo.extend(self.decisions[r] for r in d.required_decisions)
        return [i.name for i in self.input_data.values() if i.id in needed]

    def handler(self, decision: str, mode: str = "value") -> Callable[[Mapping[str, Any]], Any]:
        """A callable ``variables -> result`` for ``Engine.register_decision``: evaluates
        ``decision`` and shapes the result by ``mode`` (see :func:`map_decision_result`).
        An unknown decision or mode is refused now, not when a case reaches the task."""
        key = self._key(decision)
        if mode not in (*MAP_MODES, "value"):
            raise DmnEvaluationError(
                f"unknown mapDecisionResult {mode!r} (known: {', '.join(MAP_MODES)}, value)",
                Where(self.source),
            )

        def decide(variables: Mapping[str, Any]) -> Any:
            return map_decision_result(self.evaluate_detailed(key, variables), mode)

        return decide

    # -- evaluation ----------------------------------------------------------------------------
    def _key(self, decision: str) -> str:
        if decision in self.decisions or decision in self.services:
            return decision
        key = self._by_name.get(decision)
        if key is None:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise DmnEvaluationError(
                f"no decision '{decision}' in this model (decisions: {known})",
                Where(self.source),
            )
        return key

    def _inputs(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        base = {str(k): to_feel(v) for k, v in variables.items()}
        for name, item_type, where in self._typed_inputs:
            value = base.get(name)
            reason = item_type.violation(value, self._types) if item_type else None
            if reason:
                raise DmnEvaluationError(f"variable '{name}': {reason}", where)
        return base

    def _evaluate(self, key: str, base: dict[str, Any]) -> DecisionResult:
        if key in self.services:
            service = self.services[key]
            # Input decisions are parameters, as in DMN: taken from the variables (null when
            # absent), never evaluated.
            given = {d: base.get(self.decisions[d].variable) for d in service.input_decisions}
            value = self._run_service(service, base, given)
            return DecisionResult(
                service.id, service.name, value, entries=({service.variable: value},)
            )
        return self._run(self.decisions[key], base, {})

    def _run(
        self, target: Decision, base: Mapping[str, Any], cache: dict[str, DecisionResult]
    ) -> DecisionResult:
        """Evaluate ``target`` after its requirements (post-order walk with an explicit stack)."""
        stack: list[tuple[Decision, bool]] = [(target, False)]
        while stack:
            d, ready = stack.pop()
            if d.id in cache:
                continue
            if not ready:
                stack.append((d, True))
                stack.extend(
                    (self.decisions[r], False)
                    for r in reversed(d.required_decisions)
                    if r not in cache
                )
                continue
            cache[d.id] = self._decide(d, base, cache)
        return cache[target.id]

    def _decide(
        self, d: Decision, base: Mapping[str, Any], cache: dict[str, DecisionResult]
    ) -> DecisionResult:
        required = tuple(cache[r] for r in d.required_decisions)
        env: Mapping[str, Any] = base
        if required or d.knowledge:
            scope = dict(base)
            scope.update(self._scopes[d.id])
            for r in d.required_decisions:
                scope[self.decisions[r].variable] = cache[r].value
            env = scope
        logic = d.logic
        if logic is None:
            raise DmnEvaluationError("the decision has no decision logic to evaluate", d.where)
        try:
            if isinstance(logic, DecisionTable):
                outcome = logic.evaluate(env)
                value, matched, entries = outcome.value, outcome.matched, outcome.entries
            else:
                value = logic(env)
                matched, entries = (), ({d.variable: value},)
        except ExpressionError as exc:
            raise DmnEvaluationError(str(exc), d.where) from None
        if d.single and type(value) is list and len(value) == 1:
            value = value[0]  # the declared type is one value, not a list
        if d.type is not None:
            reason = d.type.violation(value, self._types)
            if reason:
                raise DmnEvaluationError(f"result: {reason}", d.where)
        return DecisionResult(d.id, d.name, value, matched, entries, required)

    def _run_service(
        self, service: DecisionService, base: Mapping[str, Any], given: Mapping[str, Any]
    ) -> Any:
        cache = {d: DecisionResult(d, self.decisions[d].name, v) for d, v in given.items()}
        values = {
            self.decisions[o].name: self._run(self.decisions[o], base, cache).value
            for o in service.outputs
        }
        if len(values) == 1:
            return next(iter(values.values()))
        return values

    # -- knowledge as FEEL functions -----------------------------------------------------------
    def _function_name(self, ref: str) -> str:
        owner = self.knowledge_models.get(ref) or self.services[ref]
        return owner.variable

    def _bkm_function(self, k: KnowledgeModel) -> FeelFunction:
        body, params, scopes = k.body, k.params, self._scopes

        def call(*args: Any) -> Any:
            if body is None:
                raise DmnEvaluationError("the business knowledge model has no logic", k.where)
            scope: dict[str, Any] = dict(scopes[k.id])
            scope.update(zip(params, (to_feel(a) for a in args), strict=False))
            return body(scope)

        return FeelFunction(k.variable, params, len(params), call)

    def _service_function(self, s: DecisionService) -> FeelFunction:
        def call(*args: Any) -> Any:
            values = dict(zip(s.params, args, strict=False))
            given = {d: values.get(self.decisions[d].variable) for d in s.input_decisions}
            base = {
                self.input_data[i].name: values.get(self.input_data[i].name) for i in s.input_data
            }
            return self._run_service(s, base, given)

        return FeelFunction(s.variable, s.params, len(s.params), call)
