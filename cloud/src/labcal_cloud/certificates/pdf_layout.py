"""The certificate's page frame and drawing helpers (fpdf2).

Every page carries the certificate number and "Page x of y" in its header, and in its footer
that the results relate only to the item calibrated. Tables (:func:`table`) repeat their
heading row on every page they run onto and wrap long cells, so an 8- or 12-channel result stays
readable; core PDF fonts speak Latin-1 only, so text passes :func:`latin1`.
"""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF
from fpdf.fonts import FontFace

__all__ = ["NOT_STATED", "CertificatePdf", "heading", "kv", "latin1", "paragraph", "table"]

NOT_STATED = "not stated"


def latin1(text: object) -> str:
    """Core PDF fonts speak Latin-1 only: replace anything else visibly."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


class CertificatePdf(FPDF):
    """A4 pages with the certificate's number, issuer and "Page x of y" on every one."""

    def __init__(self, number: str, issuer: str) -> None:
        super().__init__(format="A4")
        self.number, self.issuer = number, issuer
        self.alias_nb_pages()
        self.set_auto_page_break(auto=True, margin=22)
        self.set_margins(12, 12, 12)

    def header(self) -> None:
        self.set_font("helvetica", size=8)
        self.cell(self.epw / 2, 4, latin1(f"Calibration certificate No. {self.number}"), align="L")
        self.cell(
            self.epw / 2,
            4,
            latin1(f"Page {self.page_no()} of {{nb}}"),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.cell(0, 4, latin1(self.issuer), new_x="LMARGIN", new_y="NEXT")
        self.line(self.l_margin, self.get_y() + 0.5, self.w - self.r_margin, self.get_y() + 0.5)
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-18)
        self.set_font("helvetica", "I", 7)
        self.multi_cell(
            0,
            3.2,
            latin1(
                "The results relate only to the item calibrated. This certificate shall not "
                "be reproduced except in full without the written approval of the issuing "
                "laboratory."
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.cell(
            0,
            3.5,
            latin1(f"Certificate No. {self.number} - Page {self.page_no()} of {{nb}}"),
            align="C",
        )


def heading(pdf: FPDF, text: str, *, keep_mm: float = 35) -> None:
    """A section heading, moved to the next page when less than ``keep_mm`` of the page is
    left (a heading is never left alone at the foot of a page)."""
    if pdf.get_y() + keep_mm > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")


def kv(pdf: FPDF, key: str, value: object) -> None:
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(50, 5, latin1(key))
    pdf.set_font("helvetica", size=9)
    pdf.multi_cell(0, 5, latin1(value), new_x="LMARGIN", new_y="NEXT")


def paragraph(pdf: FPDF, text: str, *, size: float = 8.5, style: str = "") -> None:
    pdf.set_font("helvetica", style, size)
    pdf.multi_cell(0, 4, latin1(text), new_x="LMARGIN", new_y="NEXT")


def table(
    pdf: FPDF,
    headings: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    *,
    size: float = 7.5,
    align_first: int = 0,
) -> None:
    """A bordered table whose heading row repeats on each page; cells wrap, never overflow.
    Columns from ``align_first`` on are right-aligned (numbers)."""
    pdf.set_font("helvetica", size=size)
    aligns = tuple(
        "RIGHT" if align_first and i >= align_first else "LEFT" for i in range(len(headings))
    )
    with pdf.table(
        col_widths=tuple(widths),
        text_align=aligns,
        line_height=size * 0.5,
        repeat_headings=1,
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        width=pdf.epw,
    ) as t:
        head = t.row()
        for h in headings:
            head.cell(latin1(h))
        for values in rows:
            row = t.row()
            for v in values:
                row.cell(latin1(v))
    pdf.ln(1)
