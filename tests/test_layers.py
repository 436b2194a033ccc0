"""gilkit's modules form layers: no module imports one that imports it back (directly or through others),
whether the import runs when the module loads or inside one of its functions (the optional matplotlib,
Dask and Tk are imported there: that postpones an import, it does not make a circle one)."""

import ast
from pathlib import Path

import gilkit

PACKAGE = Path(gilkit.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module of gilkit, and the modules of gilkit it imports, anywhere in it."""
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                imported |= {f"{target}.{alias.name}" if f"{target}.{alias.name}" in paths else target
                             for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        graph[name] = {module for module in imported if module in paths and module != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                found.append([*path[path.index(imported):], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_the_modules_import_each_other_in_layers():
    graph = import_graph()
    assert len(graph) > 40 and graph["gilkit.cli"] >= {"gilkit.bench", "gilkit.report"}  # the graph is read
    assert "gilkit.plot" in graph["gilkit.gil_timeline"]  # imports inside functions are read too
    assert cycles(graph) == []


def test_the_timeline_model_sits_below_what_reads_it():
    """The records, states, words and colours of a GIL timeline: the analysis, the trace, the picture and
    the recorder import the model, and it imports none of them."""
    graph = import_graph()
    readers = {"gilkit._timeline.analysis", "gilkit._timeline.trace", "gilkit.plot", "gilkit.gil_timeline"}
    assert all("gilkit._timeline.model" in graph[reader] for reader in readers)
    assert not graph["gilkit._timeline.model"] & (readers | {"gilkit._timeline.records"})


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
