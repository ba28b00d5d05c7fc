"""DMN decisions: parse DMN 1.1–1.5 files (as dmn-js / Camunda Modeler draw them) and evaluate
their decisions with Liucheng's own FEEL.

```python
from liucheng.dmn import parse_dmn
model = parse_dmn(Path("pass_deposit.dmn"))        # or bytes / str of XML
model.evaluate("pass_deposit", {"applicant_type": "external"})  # {"deposit": Decimal("50"), …}
result = model.evaluate_detailed("pass_deposit", {...})           # value + matched rules
map_decision_result(result, "singleResult")                       # Camunda 7 result mapping
```

Every expression is compiled when the file is parsed, so a broken file fails at deployment
with its file, line and cell; evaluation only runs closures.  Modules: ``parse`` (XML → model),
``table`` (decision tables), ``hit_policy``, ``boxed`` (other boxed expressions), ``model``
(the decision requirements graph and its evaluation), ``types`` (typeRefs and allowed values),
``result`` (detailed results, Camunda's ``mapDecisionResult``), ``compile`` (FEEL text →
closures), ``errors``.  What is supported and refused: ``docs/dmn.md``.
"""

from .errors import DmnError, DmnEvaluationError, DmnParseError
from .hit_policy import Aggregation, HitPolicy
from .model import Decision, DecisionModel, DecisionService, InputData, KnowledgeModel
from .parse import parse_dmn, parse_dmn_file
from .result import MAP_MODES, DecisionResult, RuleHit, map_decision_result

__all__ = [
    "MAP_MODES",
    "Aggregation",
    "Decision",
    "DecisionModel",
    "DecisionResult",
    "DecisionService",
    "DmnError",
    "DmnEvaluationError",
    "DmnParseError",
    "HitPolicy",
    "InputData",
    "KnowledgeModel",
    "RuleHit",
    "map_decision_result",
    "parse_dmn",
    "parse_dmn_file",
]
