"""The operator port of the gravimetric workflow: a terminal (interactive) or a script file.

Every question has a key; :class:`ScriptedOperator` answers by key from a TOML script
(``labcal-edge gravimetric --script FILE``), so tests and automation drive the very same workflow
as a person at the terminal.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any, Protocol, TextIO

from labcal_edge.errors import ConfigError, RunAbortedError

__all__ = ["Operator", "ScriptedOperator", "TerminalOperator", "load_script"]


class Operator(Protocol):
    def say(self, text: str) -> None: ...

    def ask(self, key: str, prompt: str, default: str | None = None) -> str: ...

    def confirm(self, key: str, prompt: str, default: bool = False) -> bool: ...

    def act(self, key: str, prompt: str) -> None:
        """Wait until the operator has done what ``prompt`` says (Enter at the terminal)."""
        ...

    def setting(self, key: str, default: Any) -> Any:
        """A run setting (volumes, replicates …): from the script, else ``default``."""
        ...


class TerminalOperator:
    def __init__(self, out: TextIO | None = None, inp: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._in = inp or sys.stdin

    def say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _read(self, prompt: str) -> str:
        self._out.write(prompt)
        self._out.flush()
        line = self._in.readline()
        if not line:
            raise RunAbortedError("input closed: run aborted by the operator")
        answer = line.strip()
        if answer.lower() in ("q", "quit", "abort"):
            raise RunAbortedError("run aborted by the operator")
        return answer

    def ask(self, key: str, prompt: str, default: str | None = None) -> str:
        suffix = f" [{default}]" if default is not None else ""
        while True:
            answer = self._read(f"{prompt}{suffix}: ") or (default or "")
            if answer:
                return answer
            self.say("  an answer is needed (q to abort)")

    def confirm(self, key: str, prompt: str, default: bool = False) -> bool:
        hint = "Y/n" if default else "y/N"
        answer = self._read(f"{prompt} [{hint}]: ").lower()
        return default if not answer else answer.startswith("y")

    def act(self, key: str, prompt: str) -> None:
        self._read(f"{prompt} — press Enter when done (q to abort) ")

    def setting(self, key: str, default: Any) -> Any:
        return default


_LIST_SETTINGS = frozenset({"volumes_ul"})


class ScriptedOperator:
    """Answers from a script; what it says goes to ``out`` (progress is still visible)."""

    def __init__(self, script: dict[str, Any], out: TextIO | None = None) -> None:
        self.script = script
        self._out = out or sys.stdout

    def say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _answer(self, key: str, default: Any) -> Any:
        """The script's answer; a list is answered in turn (its last item then sticks)."""
        value = self.script.get(key, default)
        if isinstance(value, list) and key not in _LIST_SETTINGS:
            if not value:
                return default
            return value.pop(0) if len(value) > 1 else value[0]
        return value

    def ask(self, key: str, prompt: str, default: str | None = None) -> str:
        value = self._answer(key, default)
        if value is None:
            raise RunAbortedError(f"script has no answer for {key!r} ({prompt})")
        self.say(f"{prompt}: {value}")
        return str(value)

    def confirm(self, key: str, prompt: str, default: bool = False) -> bool:
        value = bool(self._answer(key, default))
        self.say(f"{prompt}: {'yes' if value else 'no'}")
        return value

    def act(self, key: str, prompt: str) -> None:
        self.say(prompt)

    def setting(self, key: str, default: Any) -> Any:
        return self.script.get(key, default)


def load_script(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the script: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
