"""The layout shows the architecture (issue 8, part 4): the platform (`intranet/core/`) never
imports a domain, a workflow or a blueprint; no import cycle anywhere in `intranet/`, counting
imports inside functions too; no module grows past ~400 lines."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "intranet"
MAX_LINES = 400
# What the platform may not import: the domains, the workflows, the department blueprints and
# the demo company (which composes all of them).
NOT_FOR_THE_PLATFORM = ("intranet.customers", "intranet.credit", "intranet.workflows",
                        "intranet.blueprints", "intranet.demo")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict) -> set[str]:
    """Every intranet module `name` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            # A module's own ancestors run first anyway; they are not a dependency edge.
            if candidate and candidate != name and not name.startswith(candidate + "."):
                targets.add(candidate)
    return targets


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_cycle_finder_sees_a_cycle_inside_functions():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_platform_imports_no_domain_workflow_or_blueprint():
    graph = import_graph()
    offending = {name: sorted(t for t in targets if t.startswith(NOT_FOR_THE_PLATFORM))
                 for name, targets in graph.items() if name.startswith("intranet.core")}
    assert {name: found for name, found in offending.items() if found} == {}


def test_top_level_reads_as_the_architecture():
    """The factory and config, the platform, the domains, and the fixed parts."""
    top = {p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", "."))}
    expected = {"config.py", "extensions.py", "core", "customers", "credit", "complaints",
                "resources", "archive", "visits", "reports", "demo.py",
                "models", "workflows", "blueprints", "pdf", "templates", "static",
                "translations", "data"}
    assert top == expected


def test_no_module_over_400_lines():
    sizes = {name: path.read_text(encoding="utf-8").count("\n")
             for name, path in modules().items()}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}
