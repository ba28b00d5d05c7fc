"""``FileRef``: a file reference is a value of its own — checked when made, immutable, stored
and restored exactly by the codec, and readable by every expression language."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucheng import Engine, FileRef, LiuchengError
from liucheng.engine.codec import UnreadableValueError, dumps, from_jsonable, loads, to_jsonable
from liucheng.expr import compile_expression
from liucheng.store import Attachment

SCAN = FileRef("id.jpg", "image/jpeg", 2048, sha256="0" * 64, attachment="a1", uri="s3://b/k")

_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40).filter(str.strip)
file_refs = st.builds(
    FileRef,
    name=_text,
    media_type=st.sampled_from(["application/pdf", "image/jpeg", "text/plain", "image/svg+xml"]),
    size=st.integers(min_value=0, max_value=2**53),
    sha256=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
    attachment=st.none() | _text,
    uri=st.just("files://scan") | _text,
)


@given(file_refs, st.lists(file_refs, max_size=3))
def test_codec_round_trip(ref: FileRef, more: list[FileRef]) -> None:
    value = {"doc": ref, "docs": more, "nested": [{"ref": ref}]}
    assert loads(dumps(value)) == value
    assert from_jsonable(to_jsonable(value)) == value
    assert type(loads(dumps(value))["doc"]) is FileRef


def test_stored_form() -> None:
    small = FileRef("a.pdf", "application/pdf", 1, uri="files://a")
    assert dumps(small) == (
        '{"$file":{"name":"a.pdf","media_type":"application/pdf","size":1,"uri":"files://a"}}'
    )
    with pytest.raises(UnreadableValueError, match="stored \\$file value"):
        loads('{"$file":{"name":"a.pdf","media_type":"application/pdf","size":-1,"uri":"x"}}')
    with pytest.raises(UnreadableValueError, match="unknown field"):
        loads('{"$file":{"name":"a","media_type":"a/b","size":1,"uri":"x","owner":"me"}}')


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "name must be non-empty text"),
        ({"name": "x" * 256}, "name is longer than 255 characters"),
        ({"media_type": "pdf"}, "media_type 'pdf' is not of the form type/subtype"),
        ({"size": -1}, "size must be a whole number of bytes, not -1"),
        ({"size": True}, "size must be a whole number of bytes, not True"),
        ({"size": 1.0}, "size must be a whole number of bytes, not 1.0"),
        ({"sha256": "ABC"}, "sha256 must be 64 lower-case hex digits"),
        ({"attachment": None, "uri": None}, "names neither an attachment nor a uri"),
        ({"uri": "u" * 2001}, "uri is longer than 2000 characters"),
    ],
)
def test_bad_fields_are_refused_by_name(fields: dict[str, object], message: str) -> None:
    with pytest.raises(LiuchengError, match=message):
        dataclasses.replace(SCAN, **fields)  # type: ignore[arg-type]


def test_immutable_and_made_from_an_attachment() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCAN.size = 1  # type: ignore[misc]
    att = Attachment(
        "att-9",
        "case-1",
        None,
        "王工",
        datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai")),
        "合同.pdf",
        "application/pdf",
        4096,
        "files://2026/contract.pdf",
    )
    ref = FileRef.of_attachment(att, sha256="f" * 64)
    assert ref == FileRef(
        "合同.pdf", "application/pdf", 4096, "f" * 64, "att-9", "files://2026/contract.pdf"
    )


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("feel", "doc.name", "id.jpg"),
        ("feel", 'doc.size > 1000 and doc.media_type = "image/jpeg"', True),
        ("feel", "doc.size + 1", 2049),
        ("feel", "docs.attachment", ["a1", "a1"]),
        ("feel", "doc = other", True),
        ("juel", "${doc.size / 2}", 1024),
        ("juel", "${doc.attachment}", "a1"),
        ("python", "doc.name.upper()", "ID.JPG"),
        ("python", "doc.size // 1024", 2),
    ],
)
def test_expressions_read_its_fields(language: str, text: str, expected: object) -> None:
    variables = {"doc": SCAN, "docs": [SCAN, SCAN], "other": dataclasses.replace(SCAN)}
    assert compile_expression(text, language)(variables) == expected


def test_a_case_keeps_it_through_dump_and_load() -> None:
    engine = Engine()
    engine.deploy(
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
        b'targetNamespace="t"><process id="p" isExecutable="true"><startEvent id="s"/>'
        b'<sequenceFlow id="f" sourceRef="s" targetRef="t"/><userTask id="t"/></process>'
        b"</definitions>"
    )
    case = engine.start("p", {"doc": SCAN})
    text = engine.dump(case.id)
    assert '"$file"' in text
    restored = Engine()
    restored.deploy(engine.store.deployments()[0].source)
    assert restored.load(text).variables == {"doc": SCAN}
