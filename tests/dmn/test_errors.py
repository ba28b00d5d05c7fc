"""What is refused at deployment, and how the message names the place.

Every file in tests/dmn/models/broken/ is refused by ``parse_dmn`` with a DmnParseError; the
expected message of each is listed here in full, so a change of wording is a visible choice.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from liucheng.dmn import DmnError, DmnParseError, parse_dmn, parse_dmn_file
from liucheng.errors import LiuchengError

from .conftest import BROKEN, MODELS

EXPECTED = {
    "malformed.dmn": "malformed.dmn line 5: malformed XML: Opening and ending tag mismatch: "
    "decision line 3 and decisionx, line 5, column 15",
    "not_dmn.dmn": "not_dmn.dmn line 2: not a DMN file: the root element is <definitions> in "
    "namespace 'http://www.omg.org/spec/BPMN/20100524/MODEL', expected <definitions> of DMN "
    "1.1 to 1.5",
    "unknown_hit_policy.dmn": "unknown_hit_policy.dmn line 4, decision 'colour': unknown hit "
    "policy 'BEST' (known: UNIQUE, FIRST, PRIORITY, ANY, COLLECT, RULE ORDER, OUTPUT ORDER)",
    "bad_input_entry.dmn": "bad_input_entry.dmn line 12, decision 'deposit', rule 3, input "
    "entry 2: expression '>= 1 1' at position 5: unexpected '1'",
    "bad_output_entry.dmn": "bad_output_entry.dmn line 11, decision 'colour', rule 1, output "
    "entry 2: expression '(1 +' at position 4: unexpected end of expression",
    "cycle.dmn": "cycle.dmn line 3, decision 'a': required decisions form a cycle: "
    "'a' → 'b' → 'c' → 'a'",
    "billion_laughs.dmn": "billion_laughs.dmn line 2: DTDs and entities are not allowed",
    "external_entity.dmn": "external_entity.dmn line 2: DTDs and entities are not allowed",
    "juel_language.dmn": "juel_language.dmn line 5, decision 'discount', input 1 'Total': "
    "expression language 'juel' is not supported (only FEEL is)",
    "unknown_element.dmn": "unknown_element.dmn line 9, decision 'discount', rule 1: "
    "unexpected element <outputEntri> in a rule",
    "java_function.dmn": "java_function.dmn line 4, business knowledge model 'max_bkm', "
    "encapsulated logic: functions of kind 'Java' are not supported",
    "import.dmn": "import.dmn line 3, import: imports are not supported",
    "missing_requirement.dmn": "missing_requirement.dmn line 3, decision 'a': requires "
    "decision 'nowhere', which does not exist",
    "wrong_entry_count.dmn": "wrong_entry_count.dmn line 8, decision 'a', rule 1: the rule "
    "has 1 input entry, the table has 2 inputs",
    "priority_without_values.dmn": "priority_without_values.dmn line 4, decision 'a': hit "
    "policy PRIORITY ranks rules by output values, but no output lists any",
    "sum_of_two_outputs.dmn": "sum_of_two_outputs.dmn line 4, decision 'a': aggregation SUM "
    "needs a single output, this table has 2",
    "duplicate_id.dmn": "duplicate_id.dmn line 6, decision 'a': duplicate id 'a' (first used "
    "at line 3)",
    "unknown_type.dmn": "unknown_type.dmn line 5, decision 'a', input 1: unknown type "
    "'nubmer' (no such itemDefinition or FEEL type)",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_refused_with_file_line_and_place(name: str) -> None:
    with pytest.raises(DmnParseError) as err:
        parse_dmn(BROKEN / name, name)
    assert str(err.value) == EXPECTED[name]
    assert err.value.source == name


def test_every_broken_model_is_covered() -> None:
    files = {p.name for p in BROKEN.glob("*.dmn")} - {"runtime_failure.dmn"}
    assert files == set(EXPECTED)


def test_errors_are_liucheng_errors() -> None:
    assert issubclass(DmnParseError, DmnError)
    assert issubclass(DmnError, LiuchengError)


def test_a_path_given_as_text_is_not_mistaken_for_xml() -> None:
    with pytest.raises(DmnParseError, match="this is not XML; to read a file, pass a"):
        parse_dmn(str(MODELS / "literal.dmn"))


def test_bytes_text_and_paths_give_the_same_model() -> None:
    path = MODELS / "hit_first.dmn"
    models = [
        parse_dmn(path),
        parse_dmn(path.read_bytes()),
        parse_dmn(path.read_text("utf-8")),
        parse_dmn_file(str(path)),
    ]
    for model in models:
        assert model.evaluate("discount", {"customer": "gold", "total": 5}) == Decimal("0.1")


def test_size_limit_is_checked_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.dmn"
    big.write_bytes(b"<definitions>" + b" " * 2000 + b"</definitions>")
    with pytest.raises(DmnParseError, match="file is too large"):
        parse_dmn_file(big, max_bytes=1000)
    with pytest.raises(DmnParseError, match="file is too large"):
        parse_dmn(big.read_bytes(), "big.dmn", max_bytes=1000)


def test_missing_file() -> None:
    with pytest.raises(DmnParseError, match=r"no-such\.dmn: cannot read the file"):
        parse_dmn_file("no-such.dmn")


def test_xinclude_is_refused() -> None:
    text = (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
        'xmlns:xi="http://www.w3.org/2001/XInclude" id="d" name="x" namespace="x">'
        '<xi:include href="file:///etc/passwd" parse="text"/></definitions>'
    )
    with pytest.raises(DmnParseError, match="XInclude is not allowed"):
        parse_dmn(text, "xinclude.dmn")


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("hit_first.dmn", "1.1"),
        ("hit_priority.dmn", "1.2"),
        ("hit_unique.dmn", "1.3"),
        ("hit_rule_order.dmn", "1.4"),
        ("hit_output_order.dmn", "1.5"),
    ],
)
def test_every_dmn_version_is_read(name: str, version: str) -> None:
    assert parse_dmn(MODELS / name).dmn_version == version
