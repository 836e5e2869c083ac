"""The dependency rules of the README's "How it fits together", checked on the source itself.

- the import graph of the project (tests, benchmarks and migrations excluded) has no cycle, counting
  imports made inside functions: a function-local import hides a cycle, it does not remove it;
- the domain (``outreach`` except its CLI) never imports Flask, ``webhooks`` or ``desk``;
- nothing resolves modules by name at run time (``importlib``): every part is always installed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("outreach", "webhooks", "desk")
WEB = ("flask", "flask_wtf", "flask_limiter", "webhooks", "desk")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.relative_to(ROOT).parts:
                continue
            found[_module_name(path)] = path
    return found


def _imported(name: str, path: Path, modules: frozenset[str] = frozenset()) -> set[str]:
    """Every module ``name`` imports, at any depth of the file (relative imports resolved).

    ``from package import submodule`` names the submodule, not the package's ``__init__``;
    ``from module import name`` names the module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in modules else base)
    return out


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports."""
    sources = _sources()
    modules = frozenset(sources)
    return {
        name: {m for m in _imported(name, path, modules) if m in modules and m != name}
        for name, path in sources.items()
    }


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_sees_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_the_domain_never_imports_the_web_layers():
    offenders = []
    for name, path in _sources().items():
        if not name.startswith("outreach") or name.startswith("outreach.cli"):
            continue
        for imported in _imported(name, path):
            if imported.split(".")[0] in WEB:
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_nothing_resolves_modules_by_name_at_run_time():
    offenders = [
        name
        for name, path in _sources().items()
        if any(m.split(".")[0] == "importlib" for m in _imported(name, path))
    ]
    assert offenders == []
