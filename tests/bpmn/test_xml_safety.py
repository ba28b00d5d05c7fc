"""Hostile XML is refused before it can do harm, with a clear BpmnParseError."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from lxml import etree

from liucheng.bpmn.parse import parse_bpmn, parse_bpmn_file
from liucheng.bpmn.xml_safety import make_parser, string_to_element
from liucheng.errors import BpmnParseError

from .conftest import HOSTILE

MINIMAL = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'id="d" targetNamespace="urn:x"><bpmn:process id="p"/></bpmn:definitions>'
)


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        body = b'<!ENTITY leaked "from the network">'
        self.send_response(200)
        self.send_header("Content-Type", "application/xml-dtd")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def dtd_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request (none may arrive)."""
    _Recorder.requests = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(BpmnParseError, match="DTDs and entities are not allowed") as err:
        parse_bpmn_file(HOSTILE / "billion_laughs.bpmn")
    assert time.perf_counter() - started < 1.0
    assert err.value.line == 2
    assert err.value.source is not None and err.value.source.endswith("billion_laughs.bpmn")


def test_external_entity_reading_a_local_file_is_refused() -> None:
    with pytest.raises(BpmnParseError, match="DTDs and entities are not allowed") as err:
        parse_bpmn_file(HOSTILE / "xxe_file.bpmn")
    assert "root:" not in str(err.value)


def test_external_dtd_over_the_network_is_refused_and_never_fetched(
    dtd_server: tuple[str, list[str]],
) -> None:
    url, requests = dtd_server
    data = f'<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "{url}/evil.dtd">\n{MINIMAL}'
    with pytest.raises(BpmnParseError, match="DTDs and entities are not allowed"):
        parse_bpmn(data.encode())
    # The libxml2 settings alone (without the DOCTYPE pre-scan) must not fetch it either.
    etree.fromstring(data.encode(), make_parser())
    assert requests == []


def test_parameter_entities_are_refused_and_never_fetched(
    dtd_server: tuple[str, list[str]],
) -> None:
    url, requests = dtd_server
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY % remote SYSTEM "{url}/p.dtd"> %remote;]>\n'
        f"{MINIMAL}"
    )
    with pytest.raises(BpmnParseError, match="DTDs and entities are not allowed"):
        parse_bpmn(data)
    # libxml2 may complain about the unresolved entity; what matters is that nothing is fetched
    with contextlib.suppress(etree.XMLSyntaxError):
        etree.fromstring(data.encode(), make_parser())
    assert requests == []


def test_doctype_in_utf16_is_refused() -> None:
    data = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]>{MINIMAL}'
    with pytest.raises(BpmnParseError, match="DTDs and entities are not allowed"):
        parse_bpmn(data.encode("utf-16"))


def test_oversize_input_is_refused_before_parsing() -> None:
    data = MINIMAL.replace("<bpmn:process", " " * 2000 + "<bpmn:process")
    with pytest.raises(BpmnParseError, match="too large"):
        parse_bpmn(data, max_bytes=1000)
    assert parse_bpmn(data).processes  # the default limit (10 MiB) accepts it


def test_oversize_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.bpmn"
    path.write_text(MINIMAL + " " * 5000)
    with pytest.raises(BpmnParseError, match="too large") as err:
        parse_bpmn_file(path, max_bytes=4096)
    assert err.value.source == str(path)


def test_xinclude_is_refused() -> None:
    with pytest.raises(BpmnParseError, match="XInclude is not allowed") as err:
        parse_bpmn_file(HOSTILE / "xinclude.bpmn")
    assert err.value.line == 4


def test_deeply_nested_elements_are_refused() -> None:
    depth = 5000
    data = MINIMAL.replace(
        '<bpmn:process id="p"/>', "<x:a xmlns:x='urn:a'>" * depth + "</x:a>" * depth
    )
    with pytest.raises(BpmnParseError, match="malformed XML: Excessive depth"):
        parse_bpmn(data)


def test_reasonably_nested_subprocesses_parse() -> None:
    depth = 60
    opening = "".join(f'<bpmn:subProcess id="s{i}">' for i in range(depth))
    data = MINIMAL.replace(
        '<bpmn:process id="p"/>',
        f'<bpmn:process id="p">{opening}{"</bpmn:subProcess>" * depth}</bpmn:process>',
    )
    node = parse_bpmn(data).processes["p"].body.nodes["s0"]
    for _ in range(depth - 1):
        assert node.body is not None
        node = next(iter(node.body.nodes.values()))
    assert node.id == f"s{depth - 1}"


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(BpmnParseError, match="malformed XML") as err:
        parse_bpmn_file(HOSTILE / "malformed.bpmn")
    assert err.value.line == 5
    assert "line 5" in str(err.value)


def test_non_bpmn_xml_is_refused_clearly() -> None:
    with pytest.raises(BpmnParseError, match=r"not a BPMN 2\.0 file") as err:
        parse_bpmn_file(HOSTILE / "not_bpmn.xml")
    assert "'project'" in str(err.value)


def test_definitions_in_the_wrong_namespace_is_refused() -> None:
    with pytest.raises(BpmnParseError, match=r"not a BPMN 2\.0 file") as err:
        parse_bpmn_file(HOSTILE / "wrong_namespace.bpmn")
    assert "http://schema.omg.org/spec/BPMN/2.0" in str(err.value)


@pytest.mark.parametrize("data", [b"", "", b"   ", b"\x00\x01garbage"])
def test_empty_or_binary_input_is_refused(data: bytes | str) -> None:
    with pytest.raises(BpmnParseError):
        parse_bpmn(data)


def test_str_input_with_an_encoding_declaration_is_accepted() -> None:
    data = f'<?xml version="1.0" encoding="GBK"?>\n{MINIMAL}'.replace('"p"', '"流程"')
    assert list(parse_bpmn(data).processes) == ["流程"]


def test_verbatim_fragments_in_a_model_are_parsed_with_the_same_hardening() -> None:
    with pytest.raises(BpmnParseError, match="DTDs"):
        string_to_element('<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>')
