"""BPMNDI: the diagram layout (shapes, edges, labels) read and written back.

The engine ignores the layout, but the UI draws the case's progress on it, so it must survive a
parse/write cycle exactly: bounds, waypoints, label bounds, ``isExpanded`` / ``isHorizontal`` and
any other attribute (bpmn-js colours ``bioc:stroke`` / ``color:background-color``,
``isMarkerVisible``) kept by Clark name.
"""

from __future__ import annotations

from lxml import etree

from liucheng.bpmn.model import BPMNDI_NS, DC_NS, DI_NS, Bounds, Diagram, Edge, Shape

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


def _label(el: etree._Element) -> Bounds | None:
    label = el.find(_LABEL)
    return _bounds(label.find(_BOUNDS)) if label is not None else None


def _rest(el: etree._Element, modelled: tuple[str, ...]) -> dict[str, str]:
    return {str(k): str(v) for k, v in el.attrib.items() if k not in modelled}


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip() == "true"


def parse_diagram(el: etree._Element) -> Diagram:
    """Read one ``bpmndi:BPMNDiagram`` (with its single plane)."""
    plane = el.find(_PLANE)
    diagram = Diagram(
        id=el.get("id", ""),
        name=el.get("name"),
        plane_id=plane.get("id", "") if plane is not None else "",
        plane_element=plane.get("bpmnElement", "") if plane is not None else "",
        attrs=_rest(el, ("id", "name")),
    )
    if plane is None:
        return diagram
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
                )
            )
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


def write_diagram(parent: etree._Element, diagram: Diagram) -> None:
    """Append ``diagram`` to ``parent`` (the ``definitions`` element)."""
    d = etree.SubElement(parent, _DIAGRAM, {"id": diagram.id})
    if diagram.name is not None:
        d.set("name", diagram.name)
    _set_attrs(d, diagram.attrs)
    plane = etree.SubElement(
        d, _PLANE, {"id": diagram.plane_id, "bpmnElement": diagram.plane_element}
    )
    for shape in diagram.shapes:
        s = etree.SubElement(plane, _SHAPE, {"id": shape.id, "bpmnElement": shape.element})
        if shape.is_expanded is not None:
            s.set("isExpanded", "true" if shape.is_expanded else "false")
        if shape.is_horizontal is not None:
            s.set("isHorizontal", "true" if shape.is_horizontal else "false")
        _set_attrs(s, shape.attrs)
        _write_bounds(s, shape.bounds)
        if shape.label is not None:
            _write_bounds(etree.SubElement(s, _LABEL), shape.label)
    for edge in diagram.edges:
        e = etree.SubElement(plane, _EDGE, {"id": edge.id, "bpmnElement": edge.element})
        _set_attrs(e, edge.attrs)
        for x, y in edge.waypoints:
            etree.SubElement(e, _WAYPOINT, {"x": _num(x), "y": _num(y)})
        if edge.label is not None:
            _write_bounds(etree.SubElement(e, _LABEL), edge.label)
