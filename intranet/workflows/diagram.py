"""What a workflow machine looks like from outside: its transitions, which states are
reachable (the convention test), and its state diagram (an SVG drawn by
templates/workflows/_diagram.html, and mermaid source)."""
from __future__ import annotations

from collections import deque

from intranet.workflows.engine import Workflow


def transitions(cls: type[Workflow]) -> list[tuple[str, str, str]]:
    """(source, event, target) for every transition of the machine."""
    return [(state.value, str(event), t.target.value)
            for state in cls.states for t in state.transitions for event in t.events]


def reachable(cls: type[Workflow]) -> set[str]:
    start = cls.initial_state.value
    seen, queue = {start}, deque([start])
    edges = transitions(cls)
    while queue:
        here = queue.popleft()
        for source, _, target in edges:
            if source == here and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def layers(cls: type[Workflow]) -> list[list[str]]:
    """States in columns for the diagram: each state one column right of its furthest
    predecessor, ignoring the edges that close a loop back to a state nearer the start
    (returned → submitted, a state's edges to itself such as pause), so the main path
    reads left to right; an edge into a final state never closes a loop, so the final state
    comes last however early it can be reached (a consultation answered at once)."""
    edges = transitions(cls)
    start = cls.initial_state.value
    level = {start: 0}  # shortest distance from the start
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for source, _, target in edges:
            if source == here and target not in level:
                level[target] = level[here] + 1
                queue.append(target)

    def reaches(origin: str, goal: str) -> bool:
        seen, todo = {origin}, [origin]
        while todo:
            here = todo.pop()
            if here == goal:
                return True
            for source, _, target in edges:
                if source == here and target not in seen:
                    seen.add(target)
                    todo.append(target)
        return False

    back = {(s, t) for s, _, t in edges
            if s == t or (level.get(t, 0) < level.get(s, 0) and reaches(t, s))}
    depth = {start: 0}
    for _ in range(len(cls.states)):  # longest path over the forward edges (a DAG)
        for source, _, target in edges:
            if (source, target) not in back and source in depth:
                depth[target] = max(depth.get(target, 0), depth[source] + 1)
    columns: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for state in cls.states:
        columns[depth.get(state.value, len(columns) - 1)].append(state.value)
    return columns


def mermaid(cls: type[Workflow], current: str | None = None) -> str:
    """The machine as a mermaid stateDiagram, current state highlighted."""
    lines = ["stateDiagram-v2", "    direction LR",
             f"    [*] --> {cls.initial_state.value}"]
    for source, event, target in transitions(cls):
        lines.append(f"    {source} --> {target} : {event}")
    if current:
        lines += ["    classDef current fill:#ffd54f,stroke:#333", f"    {current}:::current"]
    return "\n".join(lines)


def layout(cls: type[Workflow], width: int = 180, height: int = 36, gap_x: int = 56,
           gap_y: int = 22) -> dict:
    """Boxes and arrows for an SVG state diagram drawn by templates/workflows/_diagram.html:
    one column per distance from the initial state."""
    loop = 26 if any(s == t for s, _, t in transitions(cls)) else 0  # room above for loops
    boxes = {}
    for col, states in enumerate(layers(cls)):
        for row, state in enumerate(states):
            boxes[state] = {"state": state, "x": 10 + col * (width + gap_x),
                            "y": 10 + loop + row * (height + gap_y), "w": width, "h": height}
    arrows, seen = [], set()
    for source, event, target in transitions(cls):
        if (source, target) in seen:
            continue
        seen.add((source, target))
        a, b = boxes[source], boxes[target]
        if source == target:  # a step that keeps the state (pause, resume): a loop on top
            x1, x2, y = a["x"] + width * 0.62, a["x"] + width * 0.38, a["y"]
            path = f"M{x1},{y} C{x1 + 12},{y - loop} {x2 - 12},{y - loop} {x2},{y}"
        elif b["x"] > a["x"]:  # forward: straight
            x1, y1, x2, y2 = a["x"] + width, a["y"] + height / 2, b["x"], b["y"] + height / 2
            path = f"M{x1},{y1} L{x2},{y2}"
        elif b["x"] < a["x"]:  # backward: bowed below, so it does not hide a forward arrow
            x1, y1, x2, y2 = a["x"], a["y"] + height * 0.75, b["x"] + width, b["y"] + height * 0.75
            path = f"M{x1},{y1} Q{(x1 + x2) / 2},{max(y1, y2) + 28} {x2},{y2}"
        else:  # same column: around the right-hand side, clear of the boxes between
            x = a["x"] + width
            y1, y2 = a["y"] + height / 2, b["y"] + height / 2
            path = f"M{x},{y1} C{x + gap_x * 0.7},{y1} {x + gap_x * 0.7},{y2} {x},{y2}"
        arrows.append({"path": path, "event": event})
    columns = len(layers(cls))
    rows = max(len(c) for c in layers(cls))
    return {"boxes": list(boxes.values()), "arrows": arrows,
            "width": 20 + columns * width + (columns - 1) * gap_x,
            "height": 50 + loop + rows * height + (rows - 1) * gap_y}
