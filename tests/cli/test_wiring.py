"""Plain wiring of the command line and the scheduler: no cycles, no strings naming code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from outreach.scheduler import REGISTRY, JobContext

ROOT = Path(__file__).resolve().parents[2]
CLI = sorted((ROOT / "outreach" / "cli").glob("*.py"))


def _imports(path: Path) -> list[tuple[ast.AST, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize("path", CLI, ids=lambda p: p.name)
def test_no_function_local_imports_in_the_cli(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            local = [n for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom)]
            assert not local, f"{path.name}: {function.name} imports inside the function"


@pytest.mark.parametrize(
    "path", [p for p in CLI if p.name not in ("__init__.py", "__main__.py")], ids=lambda p: p.name
)
def test_command_modules_do_not_import_the_package(path):
    """Command modules take App/pass_app from outreach.cli.app, never from outreach.cli:
    the package imports them, so that would be a cycle."""
    for _, name in _imports(path):
        assert not (name.startswith("outreach.cli.") and name.count(".") == 2 and
                    name.split(".")[2] in ("App", "pass_app", "main")), name  # fmt: skip


def test_importlib_only_in_the_migrations_environment():
    hits = [
        str(path.relative_to(ROOT))
        for folder in ("outreach", "webhooks", "desk")
        for path in (ROOT / folder).rglob("*.py")
        if "importlib" in path.read_text(encoding="utf-8") and "migrations" not in path.parts
    ]
    assert hits == []


def test_the_registry_maps_names_to_functions():
    for name, spec in REGISTRY.items():
        assert spec.name == name
        assert callable(spec.body) and not isinstance(spec.body, str)
        assert spec.body.__code__.co_varnames[:2] == ("ctx", "now")
    assert JobContext.__dataclass_fields__  # the one argument every body takes


def test_the_cli_imports_first_in_a_fresh_interpreter():
    """Any command module can be the first one imported (no partially initialised package)."""
    for path in CLI:
        if path.name == "__main__.py":
            continue
        module = "outreach.cli" + ("" if path.stem == "__init__" else f".{path.stem}")
        subprocess.run(
            [sys.executable, "-c", f"import {module}"], check=True, cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": ""},
        )  # fmt: skip
