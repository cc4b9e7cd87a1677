"""Render a certificate document as a PDF (fpdf2), with a QR code to its verification page.

The sections follow ISO/IEC 17025 §7.8.2/7.8.4: issuer, customer, item, method, dates,
traceability, conditions, results (:mod:`.pdf_results`), uncertainty, conclusion, signatory.
"""

from __future__ import annotations

import io
from datetime import datetime

from labcal_cloud.certificates.document import CertificateDocument
from labcal_cloud.certificates.pdf_budget import render_budget
from labcal_cloud.certificates.pdf_layout import (
    NOT_STATED,
    CertificatePdf,
    heading,
    kv,
    paragraph,
    table,
)
from labcal_cloud.certificates.pdf_results import results_sections
from labcal_cloud.registry.qr_labels import qr_png

__all__ = ["render_certificate"]


def _or_not_stated(value: object | None) -> str:
    return NOT_STATED if value is None or value == "" else str(value)


def _date(value: datetime | None) -> str:
    return NOT_STATED if value is None else value.date().isoformat()


def _issuer(pdf: CertificatePdf, doc: CertificateDocument) -> None:
    lab = doc.laboratory
    heading(pdf, "Issued by")
    kv(pdf, "Laboratory", lab.name)
    kv(pdf, "Address", _or_not_stated(lab.address))
    kv(pdf, "Accreditation", _or_not_stated(lab.accreditation_id))
    heading(pdf, "Customer")
    kv(pdf, "Customer", doc.customer)
    kv(pdf, "Customer address", _or_not_stated(doc.customer_address))
    site = doc.site + (f", {doc.site_address}" if doc.site_address else "")
    kv(pdf, "Site", site)


def _item(pdf: CertificatePdf, doc: CertificateDocument) -> None:
    heading(pdf, "Item calibrated")
    kv(pdf, "Make", doc.make)
    kv(pdf, "Model", doc.model)
    kv(pdf, "Serial number", doc.serial)
    kv(pdf, "Nominal volume", f"{doc.nominal_volume_ul:g} µL, {doc.pipette_kind}")
    kv(pdf, "Channels", doc.channels)
    kv(pdf, "Tip", _or_not_stated(doc.tip))
    heading(pdf, "Method and dates")
    kv(pdf, "Method", doc.method)
    kv(pdf, "Tolerances", f"maximum permissible errors of {doc.mpe_edition}")
    kind = doc.kind + (f" ({doc.phase})" if doc.phase else "")
    kv(pdf, "Procedure", kind)
    kv(pdf, "Date of receipt", _date(doc.received_at))
    kv(pdf, "Date of calibration", doc.performed_at.strftime("%Y-%m-%d %H:%M %Z").strip())
    kv(pdf, "Date of issue", _date(doc.issued_at))
    kv(pdf, "Operator", doc.operator)


def _traceability(pdf: CertificatePdf, doc: CertificateDocument) -> None:
    heading(pdf, "Measuring instruments and traceability")
    rows = [
        (
            i.role,
            _or_not_stated(i.identification),
            _or_not_stated(i.certificate),
            _or_not_stated(i.calibrated_by),
            NOT_STATED if i.valid_until is None else i.valid_until.isoformat(),
        )
        for i in doc.instruments
    ]
    table(
        pdf,
        ("Instrument", "Identification", "Calibration certificate", "Calibrated by", "Valid until"),
        rows,
        (16, 30, 24, 20, 12),
    )
    kv(pdf, "Balance readability", f"{doc.balance_readability_mg:g} mg")
    kv(pdf, "Traceability", doc.balance_traceability)
    state = {
        True: "within its calibration",
        False: "NOT within its calibration",
        None: "calibration state unknown",
    }[doc.balance_in_calibration]
    kv(pdf, "Balance status", state)


def _environment(pdf: CertificatePdf, doc: CertificateDocument) -> None:
    heading(pdf, "Environment")
    rows = [
        (
            i,
            f"{e.air_temp_c:.1f} °C",
            f"water {e.water_temp_c:.1f} °C" if e.water_temp_c is not None else "not recorded",
            f"{e.pressure_kpa:.1f} kPa",
            f"{e.humidity_pct:.0f} % rh",
        )
        for i, e in enumerate(doc.environment, start=1)
    ]
    table(
        pdf,
        ("Sample", "Air temperature", "Water temperature", "Pressure", "Humidity"),
        rows,
        (10, 20, 20, 20, 20),
    )
    kv(pdf, "Z factor", f"{doc.z_factor:.5f} µL/mg")


def _uncertainty(pdf: CertificatePdf, doc: CertificateDocument) -> None:
    heading(pdf, "Uncertainty of measurement")
    paragraph(
        pdf,
        f"The expanded uncertainty U is the combined standard uncertainty multiplied by the "
        f"coverage factor {doc.coverage_text}, the Student t factor for the effective "
        "degrees of freedom (Welch-Satterthwaite) at a coverage probability of "
        f"{100 * doc.coverage_probability:.2f} % (approximately 95 %). It was determined "
        "following JCGM 100 (GUM); the budget follows.",
    )
    render_budget(pdf, doc.budget)  # certificates/pdf_budget.py


def _conclusion(pdf: CertificatePdf, doc: CertificateDocument) -> None:
    heading(pdf, "Conclusion")
    for label, text in doc.conformity:  # the record's one verdict (certificates/conformity.py)
        kv(pdf, label, text)
    if doc.channels > 1:
        worst = doc.worst_channel
        kv(
            pdf,
            "Worst channel",
            f"channel {worst.channel}: {'PASS' if worst.passed else 'FAIL'} "
            f"(at {worst.worst.volume_ul:g} µL its larger error is "
            f"{worst.worst.ratio:.2f} × its MPE)",
        )
    for finding in doc.findings:
        kv(pdf, "Finding", finding)
    if doc.next_due is not None:
        kv(pdf, "Next calibration due", f"{doc.next_due.isoformat()} (as agreed with the customer)")
    heading(pdf, "Authorised signatory")
    kv(pdf, "Name", _or_not_stated(doc.laboratory.signatory_name))
    kv(pdf, "Role", _or_not_stated(doc.laboratory.signatory_role))
    kv(pdf, "Verify", doc.verify_url)
    pdf.ln(2)
    paragraph(
        pdf,
        "This certificate is digitally signed (PAdES) on behalf of the signatory above. Any "
        "change to the file invalidates the signature; check it at the address above.",
        size=8,
        style="I",
    )


def render_certificate(doc: CertificateDocument) -> bytes:
    issuer = doc.laboratory.name + (
        f" - accreditation {doc.laboratory.accreditation_id}"
        if doc.laboratory.accreditation_id
        else ""
    )
    pdf = CertificatePdf(doc.number, issuer)
    pdf.set_title(f"Calibration certificate {doc.number}")
    pdf.set_author(doc.laboratory.name)
    pdf.set_creation_date(doc.issued_at)
    pdf.add_page()
    top = pdf.get_y()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "Calibration certificate", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    pdf.cell(0, 5, f"No. {doc.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(qr_png(doc.verify_url, box_size=4)), x=172, y=top, w=26, h=26)
    pdf.set_y(max(pdf.get_y(), top + 26))
    _issuer(pdf, doc)
    _item(pdf, doc)
    _traceability(pdf, doc)
    _environment(pdf, doc)
    results_sections(pdf, doc)
    _uncertainty(pdf, doc)
    _conclusion(pdf, doc)
    return bytes(pdf.output())
