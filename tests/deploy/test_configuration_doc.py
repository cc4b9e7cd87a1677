"""docs/configuration.md names every setting the code reads: cloud settings and environment
variables, every option of the three CLIs, every key of the edge and simulator TOML files."""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing

from pydantic import BaseModel

from .deploy_files import ROOT, cloud_parser, k8s_documents, load_compose, split_command

DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
SOURCES = ("cloud/src", "edge/src", "firmware-sim/src", "shared/src")
ENV_READ = re.compile(r"""environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']""")
LABCAL_LITERAL = re.compile(r"""["'](LABCAL_[A-Z0-9_]+)["']""")


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
            text = path.read_text(encoding="utf-8")
            read |= set(ENV_READ.findall(text)) | set(LABCAL_LITERAL.findall(text))
    assert "LABCAL_BASE_URL" in read  # the scan works
    assert sorted(v for v in read if f"`{v}`" not in DOC) == []


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _own_options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        o
        for a in parser._actions
        for o in a.option_strings
        if o.startswith("--") and o not in {"--help"}
    }


def _command_options(parser: argparse.ArgumentParser, words: list[str]) -> set[str]:
    """Options of the (sub)command that ``words`` invokes, and the command words themselves."""
    out = set()
    for word in words:
        sub = _subparsers(parser).get(word)
        if sub is None:
            break
        out.add(word)
        parser = sub
    return out | _own_options(parser)


def _deployed_cloud_commands() -> list[list[str]]:
    """The ``labcal-cloud`` argument lists of every process in compose.yaml and deploy/k8s."""
    commands = []
    for service in load_compose()["services"].values():
        if not str(service.get("image", "")).startswith("labcal-cloud"):
            continue
        if service.get("entrypoint") == ["sh", "-c"]:
            found = re.findall(r"labcal-cloud ([a-z][a-z -]*[a-z])", service["command"][0])
            commands += [call.split() for call in found]
        elif "entrypoint" not in service:
            commands.append(split_command(service["command"]))
    for _, doc in k8s_documents():
        spec = doc.get("spec", {})
        spec = spec.get("jobTemplate", {}).get("spec", spec)
        for container in spec.get("template", {}).get("spec", {}).get("containers", []):
            commands.append([str(a) for a in container["args"]])
    return commands


def test_every_option_of_the_deployed_commands_is_documented() -> None:
    from labcal_edge.cli import _parser as edge_parser
    from labcal_sim.cli import _parser as sim_parser

    deployed = _deployed_cloud_commands()
    assert ["migrate"] in deployed
    options = _own_options(cloud_parser())
    for words in deployed:
        options |= _command_options(cloud_parser(), words)
    for words in (["run"], ["check-config"], ["gravimetric"]):
        options |= _command_options(edge_parser(), words)
    options |= _own_options(edge_parser())
    options |= _command_options(sim_parser(), ["station"])
    assert {"--client-id", "--smtp-host", "--config", "--database-url"} <= options
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
