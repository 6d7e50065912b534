"""The layers a maintainer relies on: no import circles in ganlab, in-function imports only where they say why,
and the schema and run folders importable without torch or the registries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganlab"
WHY = ("optional", "start-up")  # the reasons an import may sit inside a function (outside the CLI)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:``: never run, so no dependency."""
    return {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for body in node.body for n in ast.walk(body)}


def _imported(node: ast.AST, package: str, modules: dict[str, Path]) -> list[str]:
    """The ganlab modules an import statement names (``from pkg import submodule`` names the submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(parts + ([node.module] if node.module else []))
    subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
    return subs + ([base] if base in modules and len(subs) < len(node.names) else [])


def import_graph() -> dict[str, set[str]]:
    """ganlab module -> the ganlab modules it imports, at any depth (functions too), type-only imports aside."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        skip = _type_checking_nodes(tree)
        graph[name] = {t for node in ast.walk(tree) if id(node) not in skip
                       for t in _imported(node, package, modules) if t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_inside_functions_say_why():
    """Outside the CLI (whose verbs import what they call), an import inside a function has a comment, on its
    line or the one above, naming an optional dependency or start-up time."""
    unexplained = []
    for name, path in _modules().items():
        if name.startswith("ganlab.cli"):
            continue
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        context = " ".join(lines[max(0, node.lineno - 2):node.end_lineno])
                        if not any(why in context for why in WHY):
                            unexplained.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert unexplained == []


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return set(out.stdout.split())


def test_validating_a_config_loads_no_torch():
    loaded = _loaded_after("from ganlab.config import load_config\nload_config('configs/mnist_cpu.yaml', [])")
    assert "torch" not in loaded and not {m for m in loaded if m.startswith(("ganlab.models", "ganlab.metrics"))}


def test_run_folders_load_no_model_or_metric_module():
    loaded = _loaded_after("import ganlab.training.rundir, ganlab.folders")
    assert "torch" not in loaded
    assert not {m for m in loaded if m.startswith(("ganlab.models", "ganlab.metrics", "ganlab.training.trainer"))}


def test_the_command_line_starts_without_torch():
    """ganlab --help and argument errors answer at once: the verbs import what they run when they run it."""
    assert "torch" not in _loaded_after("import ganlab.cli")
