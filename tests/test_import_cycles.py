"""No import cycles inside cardgrader, not even ones hidden by an import inside a function.

Every `import` and `from ... import` in every module under src/cardgrader counts, wherever it stands
(module level, inside a function, a class or an `if`), because a function-local import only delays a cycle:
the two modules still need each other. A function-local import is fine for delaying a heavy third-party
import (torch, ultralytics, cv2); it must not be how two cardgrader modules get round importing each other.

How an import becomes an edge of the graph:

- `import cardgrader.a.b` and `from cardgrader.a.b import name` import the module `cardgrader.a.b`; a
  package stands for its `__init__.py`. `from cardgrader.a import b` imports `cardgrader.a.b` when that is a
  module (the package `__init__` itself runs first, see below), else it imports `name` from
  `cardgrader.a`'s `__init__`. Relative imports are resolved against the importing module's package.
- Importing `cardgrader.a.b` first runs every package `__init__` above it (`cardgrader.a`); those count too,
  except a module's own ancestors: Python has already started a module's parent packages before the module
  runs, so `cardgrader.a.b` importing `cardgrader.a` (say, to reach a name it re-exports) forms a cycle only
  if `cardgrader.a/__init__.py` itself, directly or not, imports `cardgrader.a.b`. The graph says so by its
  `cardgrader.a -> ... -> cardgrader.a.b` edges, so such a cycle is reported like any other.
  So a package `__init__` may re-export from its submodules (`cardgrader.models`, `cardgrader.photometric`,
  `cardgrader.data.readers` do), as long as no submodule it imports needs the `__init__` back: a name
  both sides need lives in a leaf submodule (as `Annotation` does in `cardgrader.data.readers.annotation`).
- Imports under `if TYPE_CHECKING:` are left out: they never run, and they exist precisely so that an
  annotation can name a type from a module that imports this one. Imports by a computed name
  (`importlib.import_module`, as `cli` does for its sub-commands) are not seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "cardgrader"


def module_files(src: Path = SRC, root: str = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module under src/<root> (a package is its __init__.py)."""
    modules = {}
    for path in sorted((src / root).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every Import/ImportFrom in the tree, except those under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _with_parents(target: str, importer: str, root: str) -> set[str]:
    """The target and the packages above it that importing it runs, less the importer's own packages (those
    are already running when the importer runs). A target named outright always counts, even the
    importer's own package: `from cardgrader.a import name` in `cardgrader.a.b` needs `cardgrader.a`'s
    `__init__` to have got as far as `name`."""
    parts = target.split(".")
    own_packages = {".".join(importer.split(".")[:n]) for n in range(1, importer.count(".") + 1)}
    out = {target}
    out.update(name for name in (".".join(parts[:n]) for n in range(1, len(parts))) if name not in own_packages)
    return {name for name in out if name == root or name.startswith(root + ".")}


def imports_of(name: str, path: Path, modules: dict[str, Path], root: str = ROOT) -> set[str]:
    """The cardgrader modules that module `name` (at `path`) imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")
            base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            targets.add(sub if sub in modules else source)
    edges = set()
    for target in targets:
        if target != root and not target.startswith(root + "."):
            continue
        while target not in modules and "." in target:  # `import cardgrader.a.missing`: the part that exists
            target = target.rpartition(".")[0]
        edges |= _with_parents(target, name, root)
    edges.discard(name)
    return {edge for edge in edges if edge in modules}


def import_graph(src: Path = SRC, root: str = ROOT) -> dict[str, set[str]]:
    modules = module_files(src, root)
    return {name: imports_of(name, path, modules, root) for name, path in modules.items()}


def tangles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components that hold a cycle (each sorted), in order: modules that all
    import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm; the graph is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(components)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per tangle, each as a chain `[a, b, ..., a]` through the tangle's first module."""
    return [_cycle_through(graph, set(component), component[0]) for component in tangles(graph)]


def _cycle_through(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """The shortest chain start -> ... -> start inside one strongly connected component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    chain = [v]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [start] + chain[::-1][1:] + [start] if len(chain) > 1 else [start, start]
                if w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"{start} is in no cycle")  # pragma: no cover - Tarjan said it was


def describe(graph: dict[str, set[str]]) -> str:
    lines = []
    for component, cycle in zip(tangles(graph), find_cycles(graph)):
        others = [m for m in component if m not in cycle]
        lines.append("  " + " -> ".join(cycle) + (f"  (in the same tangle: {', '.join(others)})" if others else ""))
    return "\n".join(lines)


def test_cardgrader_has_no_import_cycles():
    graph = import_graph()
    assert not tangles(graph), "import cycles in cardgrader (counting imports inside functions):\n" + describe(graph)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_check_sees_a_cycle_hidden_in_a_function(tmp_path):
    _write(tmp_path, {
        "cardgrader/__init__.py": "",
        "cardgrader/data/__init__.py": "",
        "cardgrader/data/find.py": "from cardgrader.data.find_yolo import looks_like\n",
        "cardgrader/data/find_yolo.py": "def f():\n    from .find import other\n",
        "cardgrader/data/leaf.py": "import os\nfrom . import find\n",
    })
    graph = import_graph(tmp_path)
    assert graph["cardgrader.data.leaf"] == {"cardgrader.data.find"}
    assert find_cycles(graph) == [["cardgrader.data.find", "cardgrader.data.find_yolo", "cardgrader.data.find"]]


def test_a_package_that_re_exports_is_a_cycle_only_when_it_reaches_back(tmp_path):
    _write(tmp_path, {
        "cardgrader/__init__.py": "",
        "cardgrader/models/__init__.py": "from cardgrader.models.package import ModelPackage\n",
        "cardgrader/models/package.py": "X = 1\n",
        "cardgrader/models/predict.py": "from cardgrader.models import ModelPackage\n",
        "cardgrader/other.py": "from cardgrader.models.predict import X\n",
    })
    graph = import_graph(tmp_path)
    assert graph["cardgrader.models.predict"] == {"cardgrader.models"}
    assert graph["cardgrader.other"] == {"cardgrader.models", "cardgrader.models.predict"}  # the __init__ runs too
    assert find_cycles(graph) == []
    (tmp_path / "cardgrader/models/package.py").write_text("from . import predict\n", encoding="utf-8")
    assert find_cycles(import_graph(tmp_path)) == [
        ["cardgrader.models", "cardgrader.models.package", "cardgrader.models.predict", "cardgrader.models"]]


def test_imports_for_type_checking_only_are_not_edges(tmp_path):
    _write(tmp_path, {
        "cardgrader/__init__.py": "",
        "cardgrader/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cardgrader.b import B\n"
                           "else:\n    import cardgrader.c\n",
        "cardgrader/b.py": "import cardgrader.a\n",
        "cardgrader/c.py": "",
    })
    graph = import_graph(tmp_path)
    assert graph["cardgrader.a"] == {"cardgrader.c"}
    assert find_cycles(graph) == []
