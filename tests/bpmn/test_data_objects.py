"""Data objects, item definitions and variable declarations: read, written back, edited.

Data objects are kept verbatim and modelled (``Scope.data_objects``); the writer writes the
verbatim element unless the modelled one was changed (bpmn/data.py).
"""

from __future__ import annotations

from lxml import etree

from liucheng.bpmn.data import item_definitions, variable_declarations
from liucheng.bpmn.model import BPMN_NS, LIUCHENG_NS, DataObject, Definitions, ItemDefinition
from liucheng.bpmn.model import VariableDeclaration as Decl
from liucheng.bpmn.parse import parse_bpmn, parse_bpmn_file
from liucheng.bpmn.validate import validate
from liucheng.bpmn.write import write_bpmn

from .conftest import MODELS

B = f"{{{BPMN_NS}}}"
L = f"{{{LIUCHENG_NS}}}"


def _defs() -> Definitions:
    return parse_bpmn_file(MODELS / "data_objects.bpmn")


def test_data_objects_are_read_at_process_and_subprocess_level() -> None:
    defs = _defs()
    body = defs.processes["data_process"].body
    assert list(body.data_objects.values()) == [
        DataObject("deposit", "deposit", "Money", False, "50.00"),
        DataObject("visits", "visits", "xsd:int", False, "3"),
        DataObject("scans", "scans", "it:Scans", False, None),
    ]
    assert body.data_objects["deposit"].line == 17
    inner = body.nodes["inspect"].body
    assert inner is not None
    assert inner.data_objects == {
        "checklist": DataObject("checklist", "checklist", None, True, '["doors"]')
    }
    # the references are no data objects of their own
    assert "deposit_ref" not in body.data_objects
    assert validate(defs) == []


def test_item_definitions_and_variable_declarations() -> None:
    defs = _defs()
    assert item_definitions(defs) == {
        "Money": ItemDefinition("Money", "xsd:decimal", False),
        "Scans": ItemDefinition("Scans", "liucheng:file", True),
    }
    assert variable_declarations(defs.processes["data_process"]) == [
        Decl("applicant", "string", False),
        Decl("photos", "file", True),
    ]


def test_written_back_unchanged() -> None:
    defs = _defs()
    written = write_bpmn(defs)
    again = parse_bpmn(written)
    assert again == defs
    assert write_bpmn(again) == written
    text = written.decode()
    assert "<bpmn:documentation>Held until the pass is returned</bpmn:documentation>" in text
    assert "<activiti:value>3</activiti:value>" in text
    scans = etree.fromstring(written).find(f".//{B}dataObject[@id='scans']")
    assert scans is not None and scans.nsmap["it"] == "https://liucheng.test/bpmn"


def test_changes_made_in_python_are_written() -> None:
    defs = _defs()
    body = defs.processes["data_process"].body
    body.data_objects["deposit"].value = "80.00"  # into its flowable:value
    body.data_objects["visits"].value = None  # no default any more
    body.data_objects["scans"].is_collection = True
    body.data_objects["scans"].name = "扫描件"
    del body.nodes["inspect"].body.data_objects["checklist"]  # type: ignore[union-attr]
    body.data_objects["remark"] = DataObject("remark", "remark", "xsd:string", value="无")

    written = write_bpmn(defs)
    again = parse_bpmn(written)  # (its verbatim texts now say what the edits said)
    assert again.processes["data_process"].body.nodes["inspect"].body.data_objects == {}  # type: ignore[union-attr]
    assert list(again.processes["data_process"].body.data_objects.values()) == [
        DataObject("deposit", "deposit", "Money", False, "80.00"),
        DataObject("visits", "visits", "xsd:int", False, None),
        DataObject("scans", "扫描件", "it:Scans", True, None),
        DataObject("remark", "remark", "xsd:string", False, "无"),
    ]
    root = etree.fromstring(written)
    deposit = root.find(f".//{B}dataObject[@id='deposit']")
    assert deposit is not None and deposit.findtext(f"{B}documentation") == (
        "Held until the pass is returned"
    )
    visits = root.find(f".//{B}dataObject[@id='visits']")
    assert visits is not None and visits.find(f"{B}extensionElements") is None
    remark = root.find(f".//{B}dataObject[@id='remark']")
    assert remark is not None and remark.findtext(f"{B}extensionElements/{L}value") == "无"
    assert root.find(f".//{B}subProcess/{B}dataObject") is None
    assert write_bpmn(again) == written


def test_a_new_default_goes_after_the_documentation() -> None:
    defs = parse_bpmn(
        f'<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="t"><process id="p">'
        '<dataObject id="o"><documentation>why</documentation></dataObject>'
        "</process></definitions>"
    )
    defs.processes["p"].body.data_objects["o"].value = "7"
    written = write_bpmn(defs)
    obj = etree.fromstring(written).find(f".//{B}dataObject")
    assert obj is not None
    assert [etree.QName(c).localname for c in obj] == ["documentation", "extensionElements"]
    assert parse_bpmn(written).processes["p"].body.data_objects["o"].value == "7"
