"""Relative links in the operations docs and deploy READMEs point at files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .deploy_files import DEPLOY, ROOT

DOCS = [ROOT / "docs" / "operations.md", ROOT / "docs" / "configuration.md"]
DOCS += sorted(DEPLOY.glob("*/README.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def broken_links(doc: Path) -> list[str]:
    targets = [t for t in LINK.findall(doc.read_text(encoding="utf-8")) if "://" not in t]
    return [t for t in targets if not (doc.parent / t).exists()]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(doc: Path) -> None:
    assert broken_links(doc) == []


def test_a_broken_link_is_noticed(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("[ok](x.md) and [gone](nope/file.md#part) and [web](https://example.org/a)")
    assert broken_links(doc) == ["nope/file.md"]
