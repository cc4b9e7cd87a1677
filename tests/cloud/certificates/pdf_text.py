"""A certificate's text as pdftotext (poppler-utils) extracts it: per page, and word boxes."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


def _pdftotext() -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (scripts/test does)")
    return tool


def pages(pdf: bytes, tmp: Path) -> list[str]:
    """The text of every page (layout mode, so a table row stays on one line)."""
    path = tmp / "certificate.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [_pdftotext(), "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [p for p in out.split("\f") if p.strip()]


@dataclass(frozen=True)
class Word:
    page: int
    x_min: float
    x_max: float
    text: str


def words(pdf: bytes, tmp: Path) -> tuple[float, list[Word]]:
    """Every word with its horizontal extent (pt), and the page width."""
    path = tmp / "certificate-bbox.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        [_pdftotext(), "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))  # type: ignore[union-attr]
    found = []
    for n, page in enumerate(html.split("<page ")[1:], start=1):
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>(.*?)</word>', page
        ):
            found.append(Word(n, float(m.group(1)), float(m.group(2)), m.group(3)))
    return width, found
