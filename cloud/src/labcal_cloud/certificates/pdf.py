"""Render a certificate document as a PDF (fpdf2), with a QR code to its verification page."""

from __future__ import annotations

import io

from fpdf import FPDF

from labcal_cloud.certificates.document import CertificateDocument
from labcal_cloud.certificates.pdf_budget import render_budget
from labcal_cloud.registry.qr_labels import qr_png

__all__ = ["render_certificate"]


def _t(text: object) -> str:
    """Core PDF fonts speak Latin-1 only: replace anything else visibly."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _kv(pdf: FPDF, key: str, value: object) -> None:
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(48, 5, _t(key))
    pdf.set_font("helvetica", size=9)
    pdf.multi_cell(0, 5, _t(value), new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, _t(text), new_x="LMARGIN", new_y="NEXT")


def render_certificate(doc: CertificateDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Calibration certificate {doc.number}")
    pdf.set_author(doc.provider)
    pdf.set_creation_date(doc.performed_at)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _t("Calibration certificate"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    pdf.cell(
        0, 5, _t(f"No. {doc.number} - issued by {doc.provider}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.image(io.BytesIO(qr_png(doc.verify_url, box_size=4)), x=170, y=10, w=28, h=28)
    pdf.ln(3)
    _heading(pdf, "Instrument")
    _kv(pdf, "Customer", f"{doc.customer}, {doc.site}")
    _kv(pdf, "Pipette", f"{doc.device}, serial {doc.serial}, nominal {doc.nominal_volume_ul:g} µL")
    _kv(pdf, "Procedure", f"{doc.kind}, ISO 8655-6 gravimetric; MPE {doc.mpe_edition}")
    _kv(pdf, "Performed", doc.performed_at.strftime("%Y-%m-%d %H:%M %Z"))
    _kv(pdf, "Operator", doc.operator)
    _heading(pdf, "Balance and traceability")
    _kv(
        pdf,
        "Balance",
        f"{doc.balance}, serial {doc.balance_serial}, "
        f"readability {doc.balance_readability_mg:g} mg",
    )
    _kv(pdf, "Traceability", doc.balance_traceability)
    state = {
        True: "within its calibration",
        False: "NOT within its calibration",
        None: "calibration state unknown",
    }[doc.balance_in_calibration]
    _kv(pdf, "Balance status", state)
    _heading(pdf, "Environment")
    for i, e in enumerate(doc.environment, start=1):
        water = f"{e.water_temp_c:.1f} °C" if e.water_temp_c is not None else "not recorded"
        _kv(
            pdf,
            f"Sample {i}",
            f"air {e.air_temp_c:.1f} °C, water {water}, "
            f"{e.pressure_kpa:.1f} kPa, {e.humidity_pct:.0f} % rh",
        )
    _kv(pdf, "Z factor", f"{doc.z_factor:.5f} µL/mg")
    _heading(pdf, "Results")
    for v in doc.volumes:
        verdict = "accepted" if v.passed else "NOT accepted"
        pdf.set_font("helvetica", "B", 9)
        pdf.cell(
            0,
            6,
            _t(f"{v.volume_ul:g} µL, channel {v.channel}: {verdict}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("helvetica", size=8)
        replicates = ", ".join(f"{r:.3f}" for r in v.replicates_ul)
        pdf.multi_cell(0, 4, _t(f"Replicates (µL): {replicates}"), new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(
            0,
            4,
            _t(
                f"Mean {v.mean_ul:.4f} µL; systematic error {v.systematic_error_ul:+.4f} µL "
                f"({v.systematic_error_pct:+.2f} %), MPE ±{v.mpe_systematic_ul:g} µL; "
                f"random error {v.random_error_ul:.4f} µL (CV {v.cv_pct:.2f} %), "
                f"MPE {v.mpe_random_ul:g} µL; expanded uncertainty U = {v.uncertainty_ul:.4f} µL "
                f"(k = {v.coverage_factor:.2f})"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    render_budget(pdf, doc.budget)  # certificates/pdf_budget.py
    _heading(pdf, "Conclusion")
    for label, text in doc.conformity:  # the record's one verdict (certificates/conformity.py)
        _kv(pdf, label, text)
    for finding in doc.findings:
        _kv(pdf, "Finding", finding)
    _kv(pdf, "Next calibration due", doc.next_due.isoformat())
    _kv(pdf, "Verify", doc.verify_url)
    pdf.ln(2)
    pdf.set_font("helvetica", "I", 8)
    pdf.multi_cell(
        0,
        4,
        _t(
            "This certificate is digitally signed (PAdES). Any change to the file "
            "invalidates the signature; check it at the address above."
        ),
    )
    return bytes(pdf.output())
