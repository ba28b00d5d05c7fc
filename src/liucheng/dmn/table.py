"""Decision tables: read from XML once, evaluated by closures.

Reading checks everything that can be checked without data: every entry compiles, every rule
has one entry per input and output, outputs of a multi-output table have distinct names,
PRIORITY and OUTPUT ORDER have output values to rank by, aggregation has a single output.

Evaluation, per call: each input expression once; then the rules top to bottom, each input
entry in turn until one fails (``-`` cells are not even visited); FIRST stops at its first
match.  Output entries are evaluated only for matching rules.  Input values are checked
against ``inputValues`` (a value outside them is an error naming the input), and outputs
against ``outputValues``.  Null is always allowed: it means "not given".

An input's value is available to its entries as ``?`` (DMN 1.2+) and under its
``camunda:inputVariable`` name (default ``cellInput``, as in Camunda 7) when an entry uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from liucheng.errors import ExpressionError

from . import compile as c
from .errors import DmnEvaluationError, DmnParseError, Where
from .hit_policy import Aggregation, HitPolicy, Row, aggregate, read_hit_policy, select
from .result import RuleHit
from .types import TypeTable, show
from .xml_read import CAMUNDA_NS, Reader


@dataclass(frozen=True, slots=True)
class InputClause:
    label: str
    expr: c.Expr
    allowed: c.UnaryTest | None
    allowed_text: str | None
    variable: str | None
    where: Where


@dataclass(frozen=True, slots=True)
class OutputClause:
    name: str
    default: c.Expr | None
    values: tuple[c.UnaryTest, ...]
    values_text: str | None
    where: Where


@dataclass(frozen=True, slots=True)
class Rule:
    index: int
    rule_id: str | None
    tests: tuple[tuple[int, c.UnaryTest], ...]
    outputs: tuple[c.Expr, ...]
    input_where: tuple[Where, ...]
    output_where: tuple[Where, ...]


@dataclass(frozen=True, slots=True)
class TableOutcome:
    value: Any
    matched: tuple[RuleHit, ...]
    entries: tuple[dict[str, Any], ...]


class DecisionTable:
    """A compiled decision table; ``evaluate`` gives value and rule details, ``value`` the
    value alone (for tables nested in contexts and knowledge models)."""

    def __init__(
        self,
        policy: HitPolicy,
        aggregation: Aggregation | None,
        inputs: tuple[InputClause, ...],
        outputs: tuple[OutputClause, ...],
        rules: tuple[Rule, ...],
        where: Where,
    ) -> None:
        self.policy = policy
        self.aggregation = aggregation
        self.inputs = inputs
        self.outputs = outputs
        self.rules = rules
        self.where = where
        self.names = tuple(o.name for o in outputs)
        self.single_output = len(outputs) == 1
        self.checks_outputs = any(o.values for o in outputs)
        self.has_defaults = any(o.default is not None for o in outputs)

    def value(self, env: c.Env) -> Any:
        return self.evaluate(env).value

    def evaluate(self, env: c.Env) -> TableOutcome:
        values: list[Any] = []
        scopes: list[c.Env] = []
        for inp in self.inputs:
            try:
                v = inp.expr(env)
                allowed = inp.allowed is None or v is None or inp.allowed(v, env)
            except ExpressionError as exc:
                raise DmnEvaluationError(str(exc), inp.where) from None
            if not allowed:
                raise DmnEvaluationError(
                    f"value {show(v)} is not one of the allowed input values ({inp.allowed_text})",
                    inp.where,
                )
            values.append(v)
            if inp.variable:
                scope = dict(env)
                scope[inp.variable] = v
                scopes.append(scope)
            else:
                scopes.append(env)
        rows: list[Row] = []
        first_only = self.policy is HitPolicy.FIRST
        rule: Rule | None = None
        k = 0
        try:
            for rule in self.rules:
                for k, test in rule.tests:
                    if not test(values[k], scopes[k]):
                        break
                else:
                    rows.append(self._row(rule, env))
                    if first_only:
                        break
        except ExpressionError as exc:
            where = rule.input_where[k] if rule is not None else self.where
            raise DmnEvaluationError(str(exc), where) from None
        return self._result(rows, env)

    def _row(self, rule: Rule, env: c.Env) -> Row:
        vals: list[Any] = []
        for j, f in enumerate(rule.outputs):
            try:
                vals.append(f(env))
            except ExpressionError as exc:
                raise DmnEvaluationError(str(exc), rule.output_where[j]) from None
        rank: tuple[int, ...] = ()
        if self.checks_outputs:
            rank = self._rank(vals, rule)
        value = vals[0] if self.single_output else dict(zip(self.names, vals, strict=True))
        return Row(rule.index, rule.rule_id, tuple(vals), value, rank)

    def _rank(self, vals: list[Any], rule: Rule) -> tuple[int, ...]:
        """Position of each value in its output's ``outputValues``; refuses values outside."""
        rank: list[int] = []
        for j, out in enumerate(self.outputs):
            if not out.values:
                continue
            v = vals[j]
            if v is None:
                rank.append(len(out.values))
                continue
            for pos, test in enumerate(out.values):
                if test(v, {}):
                    rank.append(pos)
                    break
            else:
                raise DmnEvaluationError(
                    f"output value {show(v)} is not one of the output values "
                    f"({out.values_text}) of output '{out.name}'",
                    rule.output_where[j],
                )
        return tuple(rank)

    def _result(self, rows: list[Row], env: c.Env) -> TableOutcome:
        matched = tuple(
            RuleHit(r.index, r.rule_id, dict(zip(self.names, r.values, strict=True))) for r in rows
        )
        if not rows and self.has_defaults:
            return self._defaults(env)
        chosen = select(self.policy, rows, self.where)
        if self.aggregation is not None:
            value = aggregate(self.aggregation, [r.value for r in chosen])
            one: tuple[dict[str, Any], ...] = () if value is None else ({self.names[0]: value},)
            return TableOutcome(value, matched, one)
        entries = tuple(dict(zip(self.names, r.values, strict=True)) for r in chosen)
        if self.policy.single:
            return TableOutcome(chosen[0].value if chosen else None, matched, entries)
        return TableOutcome([r.value for r in chosen], matched, entries)

    def _defaults(self, env: c.Env) -> TableOutcome:
        """No rule matched: the default output entries make the one row of the result."""
        vals: list[Any] = []
        for out in self.outputs:
            try:
                vals.append(out.default(env) if out.default is not None else None)
            except ExpressionError as exc:
                raise DmnEvaluationError(str(exc), out.where.at("default output entry")) from None
        row = dict(zip(self.names, vals, strict=True))
        value = vals[0] if self.single_output else row
        if not self.policy.single and self.aggregation is None:
            value = [value]
        return TableOutcome(value, (), (row,))


def read_table(
    reader: Reader,
    el: etree._Element,
    where: Where,
    result_name: str,
    language: str | None,
    types: TypeTable,
) -> DecisionTable:
    """Compile a ``decisionTable`` element; ``result_name`` keys a single unnamed output."""
    reader.check_children(el, ("input", "output", "rule", "annotation"), where, "a decision table")
    policy, aggregation = read_hit_policy(el.get("hitPolicy"), el.get("aggregation"), where)
    types.resolve(el.get("typeRef"), where)
    inputs = tuple(
        _input(reader, i, n, where, language, types)
        for n, i in enumerate(reader.children(el, "input"), 1)
    )
    output_els = reader.children(el, "output")
    if not output_els:
        raise DmnParseError("a decision table needs at least one output", where)
    outputs = tuple(
        _output(reader, o, n, len(output_els), where, result_name, language, types)
        for n, o in enumerate(output_els, 1)
    )
    names = [o.name for o in outputs]
    for n, name in enumerate(names):
        if name in names[:n]:
            raise DmnParseError(f"two outputs are named {name!r}", outputs[n].where)
    if aggregation is not None and len(outputs) > 1:
        raise DmnParseError(
            f"aggregation {aggregation.value} needs a single output, this table has {len(outputs)}",
            where,
        )
    if policy.ranked and not any(o.values for o in outputs):
        raise DmnParseError(
            f"hit policy {policy.value} ranks rules by output values, but no output lists any",
            where,
        )
    rules: list[Rule] = []
    bound: set[int] = set()
    for n, r in enumerate(reader.children(el, "rule"), 1):
        rule, uses = _rule(reader, r, n, where, inputs, outputs, language)
        rules.append(rule)
        bound |= uses
    # Copy the input into a scope of its own only for inputs whose entries name it.
    inputs = tuple(
        inp if k in bound else replace(inp, variable=None) for k, inp in enumerate(inputs)
    )
    return DecisionTable(policy, aggregation, inputs, outputs, tuple(rules), where)


def _input(
    reader: Reader,
    el: etree._Element,
    n: int,
    where: Where,
    language: str | None,
    types: TypeTable,
) -> InputClause:
    label_text = " ".join(str(el.get("label") or "").split())
    here = where.at(f"input {n}" + (f" '{label_text}'" if label_text else ""), el)
    reader.check_children(el, ("inputExpression", "inputValues"), here, "an input")
    expr_el = reader.child(el, "inputExpression")
    if expr_el is None:
        raise DmnParseError("input without an inputExpression", here)
    reader.check_children(expr_el, ("text", "importedValues"), here, "an input expression")
    if reader.child(expr_el, "importedValues") is not None:
        raise DmnParseError("importedValues are not supported", here)
    c.check_language(expr_el, language, here)
    types.resolve(expr_el.get("typeRef"), here)
    text = reader.text(expr_el)
    expr = c.expression(text, here.at("input expression", expr_el))
    allowed_text = (reader.text(reader.child(el, "inputValues")) or "").strip() or None
    allowed = None
    if allowed_text:
        allowed = c.unary_tests(allowed_text, here.at("input values"))
    label = label_text or (text or "").strip() or f"input {n}"
    variable = el.get(f"{{{CAMUNDA_NS}}}inputVariable") or "cellInput"
    return InputClause(label, expr, allowed, allowed_text, variable, here)


def _output(
    reader: Reader,
    el: etree._Element,
    n: int,
    count: int,
    where: Where,
    result_name: str,
    language: str | None,
    types: TypeTable,
) -> OutputClause:
    name_text = (el.get("name") or el.get("label") or "").strip()
    here = where.at(f"output {n}" + (f" '{name_text}'" if name_text else ""), el)
    reader.check_children(el, ("outputValues", "defaultOutputEntry"), here, "an output")
    types.resolve(el.get("typeRef"), here)
    name = (el.get("name") or "").strip()
    if not name:
        if count > 1:
            raise DmnParseError("an output of a table with several outputs needs a name", here)
        name = result_name
    values_text = (reader.text(reader.child(el, "outputValues")) or "").strip() or None
    values: tuple[c.UnaryTest, ...] = ()
    if values_text:
        values = c.value_list(values_text, here.at("output values"))
    default_el = reader.child(el, "defaultOutputEntry")
    default = None
    if default_el is not None and (reader.text(default_el) or "").strip():
        c.check_language(default_el, language, here)
        default = c.expression(reader.text(default_el), here.at("default output entry"))
    return OutputClause(name, default, values, values_text, here)


def _rule(
    reader: Reader,
    el: etree._Element,
    n: int,
    where: Where,
    inputs: tuple[InputClause, ...],
    outputs: tuple[OutputClause, ...],
    language: str | None,
) -> tuple[Rule, set[int]]:
    """Compile one rule; also say which inputs its entries name by variable."""
    here = where.at(f"rule {n}", el)
    reader.check_children(el, ("inputEntry", "outputEntry", "annotationEntry"), here, "a rule")
    in_els = reader.children(el, "inputEntry")
    out_els = reader.children(el, "outputEntry")
    for found, want, what in ((in_els, inputs, "input"), (out_els, outputs, "output")):
        if len(found) != len(want):
            raise DmnParseError(
                f"the rule has {_count(len(found), what + ' entry', what + ' entries')}, "
                f"the table has {_count(len(want), what, what + 's')}",
                here,
            )
    tests: list[tuple[int, c.UnaryTest]] = []
    input_where: list[Where] = []
    uses_variable: set[int] = set()
    for k, ie in enumerate(in_els):
        w = here.at(f"input entry {k + 1}", ie)
        input_where.append(w)
        c.check_language(ie, language, w)
        text = reader.text(ie)
        test = c.unary_tests(text, w)
        if test is not None:
            tests.append((k, test))
        if c.mentions(text, inputs[k].variable or "\0"):
            uses_variable.add(k)
    output_where: list[Where] = []
    exprs: list[c.Expr] = []
    for j, oe in enumerate(out_els):
        w = here.at(f"output entry {j + 1}", oe)
        output_where.append(w)
        c.check_language(oe, language, w)
        exprs.append(c.expression(reader.text(oe), w, empty_is_null=True))
    rule = Rule(
        index=n,
        rule_id=el.get("id"),
        tests=tuple(tests),
        outputs=tuple(exprs),
        input_where=tuple(input_where),
        output_where=tuple(output_where),
    )
    return rule, uses_variable


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
