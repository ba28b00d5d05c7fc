"""BPMNDI: the diagram layout (shapes, edges, labels) read and written back.

The engine ignores the layout, but the UI draws the case's progress on it, so it must survive a
parse/write cycle exactly: bounds, waypoints, labels (bounds, ``labelStyle``, id), label styles
(fonts), ``isExpanded`` / ``isHorizontal`` and any other attribute (bpmn-js colours
``bioc:stroke`` / ``color:background-color``, ``isMarkerVisible``, a vendor's canvas size on the
plane) kept by Clark name; other children (``di:extension``, vendor elements) kept verbatim.

Attributes that BPMNDI makes optional (the id of a shape, edge or plane, ``bpmnElement``) are read
as ``""`` when absent and left out again when written.  Written back in schema order: a plane's
extension children, then its shapes, then its edges; within a shape or edge, its other children,
then bounds / waypoints, then the label.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from liucheng.bpmn.model import BPMNDI_NS, DC_NS, DI_NS, Bounds, Diagram, Edge, Label, Shape
from liucheng.bpmn.xml_safety import element_to_string

_DIAGRAM = f"{{{BPMNDI_NS}}}BPMNDiagram"
_PLANE = f"{{{BPMNDI_NS}}}BPMNPlane"
_SHAPE = f"{{{BPMNDI_NS}}}BPMNShape"
_EDGE = f"{{{BPMNDI_NS}}}BPMNEdge"
_LABEL = f"{{{BPMNDI_NS}}}BPMNLabel"
_BOUNDS = f"{{{DC_NS}}}Bounds"
_WAYPOINT = f"{{{DI_NS}}}waypoint"

DIAGRAM_TAG = _DIAGRAM


def _float(value: str | None) -> float:
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def _bounds(el: etree._Element | None) -> Bounds | None:
    if el is None:
        return None
    return Bounds(
        _float(el.get("x")), _float(el.get("y")), _float(el.get("width")), _float(el.get("height"))
    )


def _others(el: etree._Element, modelled: tuple[str, ...]) -> list[str]:
    """Child elements not in ``modelled`` (Clark names), verbatim."""
    return [element_to_string(c) for c in el if isinstance(c.tag, str) and c.tag not in modelled]


def _label(el: etree._Element) -> Label | None:
    label = el.find(_LABEL)
    if label is None:
        return None
    return Label(
        bounds=_bounds(label.find(_BOUNDS)),
        attrs=_rest(label, ()),
        other_xml=_others(label, (_BOUNDS,)),
    )


def _rest(el: etree._Element, modelled: tuple[str, ...]) -> dict[str, str]:
    return {str(k): str(v) for k, v in el.attrib.items() if k not in modelled}


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip() == "true"


def parse_diagram(el: etree._Element) -> Diagram:
    """Read one ``bpmndi:BPMNDiagram`` (with its plane; anything after the plane verbatim)."""
    plane = el.find(_PLANE)
    diagram = Diagram(
        id=el.get("id", ""),
        name=el.get("name"),
        plane_id=plane.get("id", "") if plane is not None else "",
        plane_element=plane.get("bpmnElement", "") if plane is not None else "",
        attrs=_rest(el, ("id", "name")),
        other_xml=[element_to_string(c) for c in el if isinstance(c.tag, str) and c is not plane],
    )
    if plane is None:
        return diagram
    diagram.plane_attrs = _rest(plane, ("id", "bpmnElement"))
    for child in plane:
        if child.tag == _SHAPE:
            diagram.shapes.append(
                Shape(
                    id=child.get("id", ""),
                    element=child.get("bpmnElement", ""),
                    bounds=_bounds(child.find(_BOUNDS)) or Bounds(0.0, 0.0, 0.0, 0.0),
                    label=_label(child),
                    is_expanded=_bool(child.get("isExpanded")),
                    is_horizontal=_bool(child.get("isHorizontal")),
                    attrs=_rest(child, ("id", "bpmnElement", "isExpanded", "isHorizontal")),
                    other_xml=_others(child, (_BOUNDS, _LABEL)),
                )
            )
        elif child.tag == _EDGE:
            diagram.edges.append(
                Edge(
                    id=child.get("id", ""),
                    element=child.get("bpmnElement", ""),
                    waypoints=[
                        (_float(w.get("x")), _float(w.get("y"))) for w in child.iter(_WAYPOINT)
                    ],
                    label=_label(child),
                    attrs=_rest(child, ("id", "bpmnElement")),
                    other_xml=_others(child, (_WAYPOINT, _LABEL)),
                )
            )
        elif isinstance(child.tag, str):
            diagram.plane_xml.append(element_to_string(child))
    return diagram


def _num(value: float) -> str:
    """``100.0`` → ``"100"`` (as modelers write it), other values exactly (``repr``)."""
    return str(int(value)) if value.is_integer() else repr(value)


def _write_bounds(parent: etree._Element, b: Bounds) -> None:
    etree.SubElement(
        parent,
        _BOUNDS,
        {"x": _num(b.x), "y": _num(b.y), "width": _num(b.width), "height": _num(b.height)},
    )


def _set_attrs(el: etree._Element, attrs: dict[str, str]) -> None:
    for key, value in attrs.items():
        el.set(key, value)


def _element(
    parent: etree._Element, tag: str, ident: str, bpmn_element: str | None = None
) -> etree._Element:
    """A child with the optional ``id`` / ``bpmnElement`` attributes set only when not empty."""
    el = etree.SubElement(parent, tag)
    if ident:
        el.set("id", ident)
    if bpmn_element:
        el.set("bpmnElement", bpmn_element)
    return el


#: Appends verbatim fragments (stored XML text) to an element; supplied by the writer.
PutVerbatim = Callable[[etree._Element, list[str]], None]


def _write_label(parent: etree._Element, label: Label | None, put: PutVerbatim) -> None:
    if label is None:
        return
    el = etree.SubElement(parent, _LABEL)
    _set_attrs(el, label.attrs)
    put(el, label.other_xml)
    if label.bounds is not None:
        _write_bounds(el, label.bounds)


def write_diagram(
    parent: etree._Element,
    diagram: Diagram,
    put: PutVerbatim,
    nsmap: dict[str, str] | None = None,
) -> None:
    """Append ``diagram`` to ``parent`` (the ``definitions`` element).

    ``put`` appends the verbatim fragments; ``nsmap`` declares, on the ``BPMNDiagram`` element,
    the DI namespaces that the root does not declare.
    """
    d = etree.SubElement(parent, _DIAGRAM, nsmap=nsmap)
    if diagram.id:
        d.set("id", diagram.id)
    if diagram.name is not None:
        d.set("name", diagram.name)
    _set_attrs(d, diagram.attrs)
    plane = _element(d, _PLANE, diagram.plane_id, diagram.plane_element)
    _set_attrs(plane, diagram.plane_attrs)
    put(plane, diagram.plane_xml)
    for shape in diagram.shapes:
        s = _element(plane, _SHAPE, shape.id, shape.element)
        if shape.is_expanded is not None:
            s.set("isExpanded", "true" if shape.is_expanded else "false")
        if shape.is_horizontal is not None:
            s.set("isHorizontal", "true" if shape.is_horizontal else "false")
        _set_attrs(s, shape.attrs)
        put(s, shape.other_xml)
        _write_bounds(s, shape.bounds)
        _write_label(s, shape.label, put)
    for edge in diagram.edges:
        e = _element(plane, _EDGE, edge.id, edge.element)
        _set_attrs(e, edge.attrs)
        put(e, edge.other_xml)
        for x, y in edge.waypoints:
            etree.SubElement(e, _WAYPOINT, {"x": _num(x), "y": _num(y)})
        _write_label(e, edge.label, put)
    put(d, diagram.other_xml)
