"""A non-editable install ships everything the packages read at run time.

The deploy images run ``pip install ./shared ./cloud`` (deploy/compose/cloud.Dockerfile): the
packages' data files (migrations, templates, static files, JSON tables, ``py.typed``) must be in
the wheels, or the installed ``labcal-cloud migrate`` silently skips the migrations it cannot see.

The wheels are built from copies of the package folders (without the editable install's
``*.egg-info``, as the images' ``.dockerignore`` does) by pip's isolated build (it takes the
build backend, setuptools, from the index pip is configured with, as scripts/bootstrap does),
installed with ``--no-deps`` into a fresh
virtual environment in a temporary directory; the third-party packages come from this project's
``.venv`` through a ``.pth`` line (offline, and fast), which adds that directory to ``sys.path``
without running its ``.pth`` files, so the editable installs of the LabCal packages stay out.
What is expected is read from the source tree, never listed here: every data file of every
package, every migration version and every table the SQL migrations create.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from .deploy_files import ROOT

PACKAGES = {  # folder → import package
    "shared": "labcal_shared",
    "cloud": "labcal_cloud",
    "edge": "labcal_edge",
    "firmware-sim": "labcal_sim",
}
MIGRATION = re.compile(r"^m?(\d{4})_[a-z0-9_]+\.(?:sql|py)$")
CREATE_TABLE = re.compile(r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][\w]*)", re.I)
DROP_TABLE = re.compile(r"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([A-Za-z_][\w]*)", re.I)
RENAME_TABLE = re.compile(r"\bALTER\s+TABLE\s+([A-Za-z_]\w*)\s+RENAME\s+TO\s+([A-Za-z_]\w*)", re.I)
#: One table each migrating package must have made (a readable floor under the derived set).
KNOWN_TABLES = ("messages", "calibration_record", "reminder_step", "portal_devices")


@dataclass(frozen=True)
class Installed:
    venv: Path
    python: Path
    site_packages: Path
    work: Path  # an empty working directory, outside the source tree


def _run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel-install")
    sources, wheels, work = tmp / "src", tmp / "wheels", tmp / "work"
    work.mkdir()
    ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "*.pyc", "build", "dist")
    for folder in PACKAGES:
        shutil.copytree(ROOT / folder, sources / folder, ignore=ignore)
    # pip's isolated build, as in the images (the build backend is each pyproject's own
    # requirement, setuptools >= 68, newer than the one the project .venv may hold).
    _ok(
        _run(
            sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", wheels,
            *(sources / folder for folder in PACKAGES),
            cwd=work,
        )
    )  # fmt: skip
    venv = tmp / "venv"
    _ok(_run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work))
    python = venv / "bin" / "python"
    _ok(
        _run(
            sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
            "--no-index", *sorted(wheels.glob("*.whl")),
            cwd=work,
        )
    )  # fmt: skip
    site = Path(_ok(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                         cwd=work)).strip())  # fmt: skip
    (site / "labcal-third-party.pth").write_text(sysconfig.get_path("purelib") + "\n")
    shutil.rmtree(sources)  # nothing of the copies can be imported by accident
    return Installed(venv, python, site, work)


def _source_data_files(folder: str, package: str) -> set[str]:
    """Every file of the import package that is not Python code or a package README."""
    root = ROOT / folder / "src" / package
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.suffix not in {".py", ".pyc"}
        and p.name != "README.md"
    }


@pytest.mark.parametrize(("folder", "package"), PACKAGES.items(), ids=list(PACKAGES))
def test_the_installed_package_holds_every_data_file(
    installed: Installed, folder: str, package: str
) -> None:
    expected = _source_data_files(folder, package)
    assert "py.typed" in expected
    root = installed.site_packages / package
    shipped = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert expected - shipped == set(), f"{package}: data files missing from the wheel"


def test_the_installed_cloud_is_imported_from_the_fresh_venv(installed: Installed) -> None:
    out = _ok(
        _run(
            installed.python,
            "-c",
            "import labcal_cloud, labcal_shared; print(labcal_cloud.__file__); "
            "print(labcal_shared.__file__)",
            cwd=installed.work,
        )
    )
    for line in out.split():
        assert Path(line).is_relative_to(installed.site_packages), line
        assert not Path(line).is_relative_to(ROOT), line
    assert (installed.venv / "bin" / "labcal-cloud").is_file()


def _migration_folders(backend: str) -> list[Path]:
    return sorted((ROOT / "cloud" / "src" / "labcal_cloud").glob(f"**/migrations/{backend}"))


def _source_versions(backend: str) -> set[int]:
    return {
        int(m.group(1))
        for folder in _migration_folders(backend)
        for p in folder.iterdir()
        if (m := MIGRATION.match(p.name))
    }


def _source_tables(backend: str) -> set[str]:
    """Tables the SQL migrations leave behind (created, minus dropped, renames followed)."""
    tables: set[str] = set()
    files = [p for f in _migration_folders(backend) for p in f.glob("*.sql")]
    for path in sorted(files, key=lambda p: p.name):
        sql = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        for m in re.finditer(f"{CREATE_TABLE.pattern}|{DROP_TABLE.pattern}|{RENAME_TABLE.pattern}",
                             sql, re.I):  # fmt: skip
            created, dropped, old, new = m.groups()
            if created:
                tables.add(created.lower())
            elif dropped:
                tables.discard(dropped.lower())
            else:
                tables.discard(old.lower())
                tables.add(new.lower())
    return tables


def _migrate(installed: Installed, url: str) -> str:
    return _ok(
        _run(installed.venv / "bin" / "labcal-cloud", "--database-url", url, "migrate",
             cwd=installed.work)
    )  # fmt: skip


def _check(backend: str, tables: set[str], versions: set[int]) -> None:
    assert len(_migration_folders(backend)) >= 3
    expected_tables = _source_tables(backend)
    assert set(KNOWN_TABLES) <= expected_tables
    assert expected_tables - tables == set(), f"{backend}: tables missing after migrate"
    assert versions == _source_versions(backend), f"{backend}: migrations applied"


def test_the_installed_cli_migrates_an_empty_sqlite_database(installed: Installed) -> None:
    path = installed.work / "labcal.sqlite3"
    _migrate(installed, f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    _check("sqlite", {t.lower() for t in tables}, versions)


@pytest.mark.postgres
def test_the_installed_cli_migrates_an_empty_postgres_database(
    installed: Installed, fresh_database_url: str
) -> None:
    psycopg = pytest.importorskip("psycopg")
    _migrate(installed, fresh_database_url)
    with psycopg.connect(fresh_database_url) as conn:
        tables = {
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        versions = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}
    _check("postgres", tables, versions)
