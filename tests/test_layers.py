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


# Libraries that take seconds or hundreds of MB to import: the only ones a function may import
# itself, so that `--help`, bad flags and the light commands never load them.
HEAVY_LIBRARIES = {"tensorflow", "keras", "matplotlib", "efficientnet", "torch",
                   "tensorflow_datasets", "imageio", "PIL", "h5py"}


def _imports(nodes, mods):
    """``(statement, [project modules it names], top-level package)`` per import statement."""
    for node in nodes:
        if isinstance(node, ast.Import):
            targets, top = [a.name for a in node.names], node.names[0].name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            base = node.module or ""
            targets, top = [base] + [f"{base}.{a.name}" for a in node.names], base.split(".")[0]
        else:
            continue
        yield node, [t for t in targets if t in mods], top


def heavy_modules(mods: dict[str, Path]) -> set[str]:
    """Project modules whose import loads a heavy library: one that imports one at its top
    level (or calls ``import_tensorflow()`` there, as ``replication.models`` does), or a
    heavy project module, or lies in a heavy package, transitively."""
    direct, edges = set(), {}
    for name, path in mods.items():
        body = ast.parse(path.read_text()).body
        edges[name] = set()
        for node, targets, top in _imports(body, mods):
            if top in HEAVY_LIBRARIES:
                direct.add(name)
            edges[name].update(t for t in targets if t != name)
        if any(isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
               and getattr(n.value.func, "id", "") == "import_tensorflow" for n in body):
            direct.add(name)
    heavy, grew = set(direct), True
    while grew:  # importing a module imports its packages first, and what it imports
        grew = False
        for name, targets in edges.items():
            packages = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
            if name not in heavy and (targets | packages) & heavy:
                heavy.add(name)
                grew = True
    return heavy


def test_functions_import_only_heavy_libraries():
    """Imports sit at the top of a module; a function imports only what is heavy to load (the
    libraries above, and the project modules that load them)."""
    mods = modules()
    heavy = heavy_modules(mods)
    assert {"replication.models", "replication.models.torch_state",
            "replication.plots"} <= heavy  # the checker sees them
    # what `python -m replication --help` and a bad flag import stays light
    command_line = {"replication", "replication.__main__", "replication.cli", "replication.runs",
                    "replication.train", "replication.sample", "replication.evaluate.cli",
                    "replication.reproduce", "replication.study", "replication.bench",
                    "replication.shipping", "replication.zero_shot", "replication.encoder_probe"}
    assert not command_line & heavy, sorted(command_line & heavy)
    found = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            nested = [n for n in ast.walk(function) if isinstance(n, (ast.Import, ast.ImportFrom))]
            for node, targets, top in _imports(nested, mods):
                if top in HEAVY_LIBRARIES or any(t in heavy for t in targets):
                    continue
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "move to the top of the module:\n" + "\n".join(sorted(set(found)))
