"""Where a case stands, as text: the process's elements in flow order, marked done or current.

Used by ``liucheng show``; the web app draws the same thing on the diagram.  Elements are listed
breadth-first from the start events along sequence flows (boundary events right after their
activity, subprocess bodies indented under the subprocess), each marked ``✓`` when the case has
completed it, ``▶`` where a token is now, and ``·`` when not reached.
"""

from __future__ import annotations

from collections import deque

from liucheng.engine.graph import CompiledProcess, Node


def _order(proc: CompiledProcess, parent: str | None) -> list[Node]:
    nodes = [n for n in proc.nodes.values() if n.parent == parent]
    starts = [n for n in nodes if n.tag == "startEvent"]
    seen: set[str] = set()
    ordered: list[Node] = []
    queue = deque(starts or nodes[:1])
    while queue:
        node = queue.popleft()
        if node.id in seen:
            continue
        seen.add(node.id)
        ordered.append(node)
        for boundary in node.boundaries:
            queue.appendleft(proc.nodes[boundary])
        flows = [*node.outgoing, *([node.default] if node.default else [])]
        queue.extend(proc.nodes[f.target] for f in flows if f.target in proc.nodes)
    ordered.extend(n for n in nodes if n.id not in seen)  # unreachable: still listed
    return ordered


def render_position(
    proc: CompiledProcess, active: tuple[str, ...], completed: list[str]
) -> list[str]:
    """One line per element: mark, name and id, indented by subprocess depth."""
    done = set(completed)
    here = set(active)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for node in _order(proc, parent):
            mark = "▶" if node.id in here else "✓" if node.id in done else "·"
            label = f"{node.name} ({node.id})" if node.name else node.id
            lines.append(f"{'  ' * depth}{mark} {label}")
            if node.start is not None:
                walk(node.id, depth + 1)

    walk(None, 0)
    return lines
