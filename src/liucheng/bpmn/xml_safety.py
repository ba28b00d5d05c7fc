"""Reading untrusted XML safely.

Process files are uploaded by users, so the XML layer assumes hostile input.  The defences, in the
order they apply:

1. **Size** is checked before any parsing (default 10 MiB), so a huge upload costs nothing.
2. **No DTD at all.**  BPMN never needs one, and every classic XML attack (billion laughs, external
   entities reading ``file:///etc/passwd``, parameter entities fetching a remote DTD) lives in the
   DTD.  The raw bytes are scanned for ``<!DOCTYPE`` in the common encodings before libxml2 sees
   them; after parsing, ``docinfo`` is checked again as a backstop for exotic encodings.
3. **libxml2 locked down:** no entity resolution, no network, no DTD loading or validation and no
   ``huge_tree`` (which keeps libxml2's depth limit of 256 and its text-size limits), so deeply
   nested documents are refused by the parser itself.
4. **No XInclude.**  We never call ``xinclude()``, and a file that contains XInclude elements is
   refused outright rather than silently carrying them along.

Anything refused raises ``BpmnParseError`` naming the file and, when lxml knows it, the line.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from liucheng.errors import BpmnParseError

#: Files larger than this are refused before parsing (bytes).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
# An entity can only be declared inside a DOCTYPE, so refusing the DOCTYPE refuses them all.  The
# scan may refuse a file that merely mentions "<!DOCTYPE" inside a comment or CDATA section; BPMN
# files have no reason to, and refusing is the safe side.
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(enc) for enc in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

DTD_REFUSED = "DTDs and entities are not allowed"


def make_parser() -> etree.XMLParser:
    """A fresh hardened parser (lxml parsers are not thread-safe, so one per call)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )


def parse_xml(
    data: bytes | str, *, source: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._Element:
    """Parse untrusted XML text and return its root element, or raise ``BpmnParseError``."""
    if isinstance(data, str):
        # lxml refuses str input that carries an encoding declaration; the text is already
        # decoded, so the declaration says nothing useful.
        size = len(data.encode("utf-8", errors="surrogatepass"))
        text: bytes | str = _XML_DECLARATION.sub("", data, count=1)
        raw = data.encode("utf-8", errors="replace")
    else:
        size = len(data)
        text = raw = data
    if size > max_bytes:
        raise BpmnParseError(
            f"file is too large ({size} bytes; the limit is {max_bytes} bytes)", source=source
        )
    if any(marker in raw for marker in _DOCTYPE_MARKERS):
        raise BpmnParseError(DTD_REFUSED, source=source, line=_line_of(raw, _DOCTYPE_MARKERS))
    try:
        root = etree.fromstring(text, make_parser())
    except etree.XMLSyntaxError as exc:
        raise BpmnParseError(
            f"malformed XML: {exc.msg}", source=source, line=exc.lineno or None
        ) from None
    except ValueError as exc:  # e.g. undecodable input that lxml rejects before parsing
        raise BpmnParseError(f"malformed XML: {exc}", source=source) from None
    if root is None:
        raise BpmnParseError("the file is empty", source=source)
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise BpmnParseError(DTD_REFUSED, source=source)
    for node in root.iter(etree.Entity):
        raise BpmnParseError(DTD_REFUSED, source=source, line=_line(node))
    for ns in _XINCLUDE_NAMESPACES:
        for node in root.iter(f"{{{ns}}}*"):
            raise BpmnParseError("XInclude is not allowed", source=source, line=_line(node))
    return root


def _line(el: etree._Element) -> int | None:
    line = el.sourceline
    return line if isinstance(line, int) else None


def _line_of(raw: bytes, markers: tuple[bytes, ...]) -> int | None:
    """The 1-based line of the first marker, for ASCII-compatible encodings (else None)."""
    pos = raw.find(markers[0])
    return raw.count(b"\n", 0, pos) + 1 if pos >= 0 else None


def element_to_string(el: etree._Element) -> str:
    """Serialise one element verbatim (no tail), declaring only the namespaces it uses.

    The element is copied out of its document first: lxml would otherwise repeat every namespace
    declared on the root, which makes the text noisy and differ between files that declare
    different sets.  Prefixes used only inside attribute values
    (``xsi:type="bpmn:tFormalExpression"``) resolve again once the text is put back under a root
    that declares them.
    """
    return etree.tostring(copy.deepcopy(el), encoding="unicode", with_tail=False)


def string_to_element(text: str) -> etree._Element:
    """Parse a verbatim fragment stored in the model (same hardening as whole files)."""
    return parse_xml(text, source="<verbatim XML in the model>")


def fragments_mentioning(texts: Iterable[str], word: str) -> Iterator[etree._Element]:
    """Parse the verbatim fragments whose first 200 characters mention ``word``.

    The engine reads vendor extensions (listeners, fields, associations) out of the fragments
    the model keeps verbatim; the cheap text test spares parsing the many that cannot match.
    The parser read each fragment once already, so one that no longer parses is skipped.
    """
    for text in texts:
        if word not in text[:200]:
            continue
        try:
            yield string_to_element(text)
        except BpmnParseError:  # pragma: no cover - the parser already read it once
            continue
