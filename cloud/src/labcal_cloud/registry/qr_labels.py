"""A printable A4 PDF sheet of claim QR labels (3 × 8 labels per page)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode  # type: ignore[import-untyped]
from fpdf import FPDF

__all__ = ["Label", "qr_png", "render_label_sheet"]

COLS, ROWS = 3, 8
LABEL_W, LABEL_H = 70.0, 37.0


@dataclass(frozen=True)
class Label:
    url: str
    title: str  # e.g. make and model
    serial: str


def qr_png(data: str, box_size: int = 6) -> bytes:
    img = qrcode.QRCode(border=1, box_size=box_size)
    img.add_data(data)
    img.make(fit=True)
    out = io.BytesIO()
    img.make_image().save(out)
    return out.getvalue()


def render_label_sheet(labels: Sequence[Label], heading: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(heading)
    per_page = COLS * ROWS
    for index, label in enumerate(labels):
        if index % per_page == 0:
            pdf.add_page()
            pdf.set_font("helvetica", size=7)
            pdf.text(5, 5, heading)
        slot = index % per_page
        x = (slot % COLS) * LABEL_W
        y = 6 + (slot // COLS) * LABEL_H
        pdf.image(io.BytesIO(qr_png(label.url)), x=x + 3, y=y + 3, w=30, h=30)
        pdf.set_font("helvetica", "B", 8)
        pdf.set_xy(x + 35, y + 6)
        pdf.multi_cell(33, 4, label.title)
        pdf.set_font("helvetica", size=8)
        pdf.set_xy(x + 35, y + 18)
        pdf.multi_cell(33, 4, f"SN {label.serial}\nScan to register")
    if not labels:
        pdf.add_page()
        pdf.set_font("helvetica", size=10)
        pdf.text(10, 10, f"{heading}: no labels")
    return bytes(pdf.output())
