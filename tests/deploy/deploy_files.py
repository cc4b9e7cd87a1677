"""Helpers shared by the deploy tests: where the files are, and the real CLI parsers."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S_DIR = DEPLOY / "k8s"


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def shell_scripts() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*.sh") if p.is_file())


def load_all(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def env_example() -> dict[str, str]:
    """``deploy/compose/.env.example`` as a mapping (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for line in (COMPOSE_DIR / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: not KEY=VALUE: {line!r}"
            out[key.strip()] = value
    return out


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}")


def compose_variables(text: str) -> set[str]:
    """Names of the ``${VAR...}`` interpolations in a compose file (``$$`` escapes skipped)."""
    return {m.group(1) for m in _VAR.finditer(text.replace("$$", ""))}


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose-style interpolation of ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        current = env.get(name, "")
        if op in (":-", "-") and not current:
            return arg or ""
        if op in (":?", "?") and not current:
            raise ValueError(f"{name} is required: {arg}")
        return current

    return _VAR.sub(one, value).replace("$$", "$")


def cloud_parser() -> argparse.ArgumentParser:
    from labcal_cloud.cli import build_parser

    return build_parser()


def cloud_commands() -> set[str]:
    for action in cloud_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("labcal-cloud has no subcommands")


def check_cloud_args(args: list[str]) -> None:
    """Parse ``args`` with the real ``labcal-cloud`` parser (SystemExit on a bad option)."""
    cloud_parser().parse_args(args)


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_all(path):
            yield path, doc


def split_command(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
