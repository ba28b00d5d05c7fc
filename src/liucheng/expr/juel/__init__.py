"""JUEL: the ``${…}`` / ``#{…}`` expressions of Camunda 7, Flowable and Activiti models.

Why it exists: most BPMN files in Chinese installations come from those engines, and their
conditions, assignees, candidate groups, due dates and mappings are written in the Java Unified
Expression Language (EL 2.2, the JUEL implementation).  This package runs that text unchanged —
without Java's reflection, which is what makes EL dangerous.

Pipeline: ``lexer`` → ``parser`` (tree in ``nodes``) → ``compiler`` (nested closures; no
``eval``/``exec``/``compile()``), with EL's coercions in ``coerce``, operators in ``ops``, what
``a.b``/``a[b]``/``a.m()`` can reach in ``access``, engine names (``execution``, ``now()``,
Flowable's ``variables:get``) in ``context``, composite text in ``template`` and bounds in
``limits``.  ``docs/juel.md`` lists what is supported, what is refused and how we differ from
Java.

In short:

* ``${x}`` alone gives the typed value; ``Dear ${name}`` gives a string;
* an unknown variable is an error, as in Camunda ("Unknown property used in expression"), also
  under ``empty``; ``execution.getVariable('x')`` and ``variables:get(x)`` give null instead;
* ``+`` adds numbers only (EL has no string ``+``); floating literals are Decimal;
* methods: ``execution.getVariable/getVariableLocal/hasVariable/hasVariableLocal`` and small
  whitelisted string, list, map and date helpers; everything else (``getClass()``, ``_x``) is
  refused when compiling, with the offset;
* syntax errors, refusals and runtime failures are ``ExpressionError`` whose ``position`` is the
  offset in the whole attribute text.
"""

from .api import compile_juel, compile_juel_expression, evaluate_juel, has_juel

__all__ = ["compile_juel", "compile_juel_expression", "evaluate_juel", "has_juel"]
