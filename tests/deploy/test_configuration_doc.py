"""docs/configuration.md names every setting the code reads: cloud settings and environment
variables, every option of the three CLIs, every key of the edge and simulator TOML files."""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing

from pydantic import BaseModel

from .deploy_files import ROOT, cloud_parser

DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
SOURCES = ("cloud/src", "edge/src", "firmware-sim/src", "shared/src")
ENV_READ = re.compile(r"""environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']""")


_CODE = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", DOC, re.S) + re.findall(r"`([^`\n]+)`", DOC))


def _documented(name: str) -> bool:
    """``name`` appears as a whole token in inline code or in a code block."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", _CODE) is not None


def test_every_cloud_setting_is_documented() -> None:
    from labcal_cloud.settings import Settings

    missing = [
        f"LABCAL_{f.name.upper()}"
        for f in dataclasses.fields(Settings)
        if f"`LABCAL_{f.name.upper()}`" not in DOC
    ]
    assert missing == []


def test_every_environment_variable_read_by_the_code_is_documented() -> None:
    read: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(ENV_READ.findall(path.read_text(encoding="utf-8")))
    assert "LABCAL_BASE_URL" in read  # the scan works
    assert sorted(v for v in read if f"`{v}`" not in DOC) == []


def _options(parser: argparse.ArgumentParser) -> set[str]:
    out: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.add(name)
                out |= _options(sub)
        else:
            out |= {o for o in action.option_strings if o.startswith("--") and o != "--help"}
    return out


def test_every_cli_option_is_documented() -> None:
    from labcal_edge.cli import _parser as edge_parser
    from labcal_sim.cli import _parser as sim_parser

    options = _options(cloud_parser()) | _options(edge_parser()) | _options(sim_parser())
    assert {"--client-id", "--config", "--protocol"} <= options
    assert sorted(o for o in options if not _documented(o)) == []


def _keys(model: type[BaseModel]) -> set[str]:
    out: set[str] = set()
    for name, field in model.model_fields.items():
        out.add(name)
        for arg in typing.get_args(field.annotation) or (field.annotation,):
            inner = typing.get_args(arg) or (arg,)
            for t in inner:
                if isinstance(t, type) and issubclass(t, BaseModel):
                    out |= _keys(t)
    return out


def test_every_edge_config_key_is_documented() -> None:
    from labcal_edge.config import EdgeConfig

    keys = _keys(EdgeConfig)
    assert {"ca_file", "poll_interval_s", "dialect"} <= keys
    assert sorted(k for k in keys if not _documented(k)) == []


def test_every_simulator_station_key_is_documented() -> None:
    from labcal_sim import station_config as sc

    keys: set[str] = set()
    for cls in (sc.StationConfig, sc.BalanceConfig, sc.PipetteConfig, sc.SensorConfig):
        keys |= {f.name for f in dataclasses.fields(cls)}
    keys |= {f.name for f in dataclasses.fields(sc.ScannerConfig)}
    assert {"link_dir", "nominal_ul", "codes"} <= keys
    assert sorted(k for k in keys if not _documented(k)) == []


def test_the_checks_notice_an_undocumented_name() -> None:
    assert not _documented("--no-such-option-anywhere")
    assert not _documented("surely_not_a_key")
    assert _documented("--client-id")
