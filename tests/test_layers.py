"""The package's layers (the table in docs/development.md is the one declaration): no module
imports one of a higher layer, and there is no import cycle, counting imports inside
functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "replication"
DOC = ROOT / "docs" / "development.md"


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, dict[str, int]]:
    """``{module: {imported module: line}}`` over every import statement, wherever it sits.
    Imports of a module's own ancestors (``from replication import load_model``, the package's
    facade) are left out."""
    graph = {name: {} for name in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = name.split(".")
                    if path.name != "__init__.py":
                        package = package[:-1]
                    package = package[:len(package) - node.level + 1]
                    base = ".".join(package + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].setdefault(target, node.lineno)
    return graph


def declared_layers() -> dict[str, int]:
    """``{module pattern: layer number}`` from the table between ``<!-- layers -->`` and
    ``<!-- /layers -->`` in docs/development.md (rows ``| N | name | `a`, `b.*` | ...``)."""
    text = DOC.read_text()
    match = re.search(r"<!-- layers -->(.*?)<!-- /layers -->", text, re.S)
    assert match, f"{DOC} has no layer table"
    layers = {}
    for row in match.group(1).splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].isdigit():
            continue
        for pattern in re.findall(r"`([^`]+)`", cells[2]):
            layers[pattern] = int(cells[0])
    return layers


def layer_of(module: str, layers: dict[str, int]) -> int | None:
    short = module.removeprefix("replication.") if module != "replication" else "replication"
    if short in layers:
        return layers[short]
    parts = short.split(".")
    for i in range(len(parts) - 1, 0, -1):
        pattern = ".".join(parts[:i]) + ".*"
        if pattern in layers:
            return layers[pattern]
    return None


def cycles(graph) -> list[list[str]]:
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_counting_imports_inside_functions():
    assert cycles(import_graph(modules())) == []


def test_every_module_has_a_declared_layer():
    layers = declared_layers()
    missing = sorted(m for m in modules() if layer_of(m, layers) is None)
    assert not missing, f"add these to the layer table in {DOC}: {missing}"


def test_no_module_imports_a_higher_layer():
    layers = declared_layers()
    upward = [f"{m} (layer {layer_of(m, layers)}) imports {t} (layer {layer_of(t, layers)}) "
              f"at line {line}"
              for m, targets in import_graph(modules()).items()
              for t, line in targets.items()
              if None not in (layer_of(t, layers), layer_of(m, layers))
              and layer_of(t, layers) > layer_of(m, layers)]
    assert not upward, "\n".join(upward)


def test_the_checker_sees_cycles_and_upward_imports():
    """The helpers above would catch a real cycle (so the tests cannot pass vacuously)."""
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert cycles(graph) == [["a", "b", "c"]]
    layers = {"models.*": 2, "config": 1, "cli": 6}
    assert layer_of("replication.models.gan", layers) == 2
    assert layer_of("replication.config", layers) == 1
    assert layer_of("replication.unknown", layers) is None
