"""The edge installs on a lab PC without the cloud: its declared dependencies and its imports."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EDGE_SRC = ROOT / "edge" / "src" / "labcal_edge"
# pydantic comes with labcal-shared (the contracts are pydantic models)
ALLOWED = {"labcal_edge", "labcal_shared", "serial", "paho", "pydantic"}
PURE = ["backoff.py", "clock.py", "usage.py", "messages.py"]  # functional core: no I/O imports
IO_MODULES = {"serial", "paho", "sqlite3", "socket", "subprocess", "time", "random", "os"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_declared_dependencies_are_only_shared_pyserial_and_paho() -> None:
    project = tomllib.loads((ROOT / "edge" / "pyproject.toml").read_text())["project"]
    names = sorted(
        d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]
    )
    assert names == ["labcal-shared", "paho-mqtt", "pyserial"]
    assert project["scripts"]["labcal-edge"] == "labcal_edge.cli:main"


def test_edge_imports_nothing_but_stdlib_shared_pyserial_and_paho() -> None:
    files = sorted(EDGE_SRC.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        foreign = imported_roots(path) - ALLOWED - set(sys.stdlib_module_names) - {"__future__"}
        assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_functional_core_has_no_io() -> None:
    for name in PURE:
        io = imported_roots(EDGE_SRC / name) & IO_MODULES
        assert not io, f"{name} imports {sorted(io)}"
