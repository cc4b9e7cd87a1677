"""The certificate as a PTB Digital Calibration Certificate (DCC 3.3.0, namespace https://ptb.de/dcc).

Written from the same :class:`CertificateDocument` as the PDF, so both say the same. Numbers are
D-SI ``si:real`` (value, unit, expanded uncertainty with k and coverage probability); every
channel and volume is one ``dcc:result``; the verdicts are ``dcc:conformity`` statements; what
the station did not send is said as "not stated". Element order follows the DCC 3.3.0 schema.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable

from lxml import etree

from labcal_cloud.certificates.document import (
    CertificateDocument,
    InstrumentRow,
    PhaseResults,
    VolumeRow,
)

__all__ = ["DCC_NS", "DS_NS", "SCHEMA_VERSION", "SI_NS", "render_dcc"]

DCC_NS = "https://ptb.de/dcc"
SI_NS = "https://ptb.de/si"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SCHEMA_VERSION = "3.3.0"
NOT_STATED = "not stated"
UNKNOWN_COUNTRY = "ZZ"  # ISO 3166-1 user-assigned code: the lab's country was not configured
_UL, _PCT = "\\micro\\litre", "\\percent"
_D, _S = f"{{{DCC_NS}}}", f"{{{SI_NS}}}"


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    e = etree.SubElement(parent, _D + name, attrs)
    if text is not None:
        e.text = text
    return e


def _text(parent: etree._Element, name: str, content: str) -> etree._Element:
    """A ``dcc:textType`` / ``dcc:richContentType`` element with one English content."""
    e = _el(parent, name)
    _el(e, "content", content, lang="en")
    return e


def _real(
    parent: etree._Element,
    value: float,
    unit: str,
    *,
    label: str | None = None,
    uncertainty: float | None = None,
    k: float | None = None,
    probability: float | None = None,
) -> None:
    real = etree.SubElement(parent, _S + "real")
    if label:
        etree.SubElement(real, _S + "label").text = label
    etree.SubElement(real, _S + "value").text = repr(float(value))
    etree.SubElement(real, _S + "unit").text = unit
    if uncertainty is not None and k is not None and probability is not None:
        mu = etree.SubElement(real, _S + "measurementUncertaintyUnivariate")
        expanded = etree.SubElement(mu, _S + "expandedMU")
        etree.SubElement(expanded, _S + "valueExpandedMU").text = repr(float(uncertainty))
        etree.SubElement(expanded, _S + "coverageFactor").text = repr(float(k))
        etree.SubElement(expanded, _S + "coverageProbability").text = repr(float(probability))
        etree.SubElement(expanded, _S + "distribution").text = "normal"


def _quantity(
    data: etree._Element, name: str, ref: str, value: float, unit: str, **kw: float | None
) -> etree._Element:
    q = _el(data, "quantity", refType=ref)
    _text(q, "name", name)
    _real(q, value, unit, **kw)  # type: ignore[arg-type]
    return q


def _location(parent: etree._Element, address: str) -> None:
    loc = _el(parent, "location")
    _text(loc, "further", address or NOT_STATED)


def _contact(parent: etree._Element, tag: str, name: str, address: str) -> None:
    c = _el(parent, tag)
    _text(c, "name", name)
    _location(c, address)


def _statement(
    parent: etree._Element,
    name: str,
    declaration: str,
    *,
    ref: str,
    norm: str | None = None,
    conformity: str | None = None,
    date: str | None = None,
) -> None:
    st = _el(parent, "statement", refType=ref)
    _text(st, "name", name)
    if norm:
        _el(st, "norm", norm)
    _text(st, "declaration", declaration)
    if date:
        _el(st, "date", date)
    if conformity:
        _el(st, "conformity", conformity)


def _verdict_sentence(doc: CertificateDocument) -> str:
    """The record's one verdict, worded as on the PDF (certificates/conformity.py)."""
    if doc.conformity:
        return "; ".join(text for _, text in doc.conformity)
    verdict = "PASSED" if doc.passed else "FAILED"
    claim = (
        "conformity with ISO 8655 is stated"
        if doc.conformity_claimable
        else "conformity cannot be stated (see findings)"
    )
    return f"{verdict}; {claim}"


def _administrative(root: etree._Element, doc: CertificateDocument) -> None:
    adm = _el(root, "administrativeData")
    sw = _el(_el(adm, "dccSoftware"), "software")
    _text(sw, "name", "LabCal")
    _el(sw, "release", importlib.metadata.version("labcal-cloud"))
    _el(sw, "type", "application")

    core = _el(adm, "coreData")
    lab = doc.laboratory
    _el(core, "countryCodeISO3166_1", lab.country_code or UNKNOWN_COUNTRY)
    _el(core, "usedLangCodeISO639_1", "en")
    _el(core, "mandatoryLangCodeISO639_1", "en")
    _el(core, "uniqueIdentifier", doc.number)
    if doc.received_at is not None:
        _el(core, "receiptDate", doc.received_at.date().isoformat())
    _el(core, "beginPerformanceDate", doc.started_at.date().isoformat())
    _el(core, "endPerformanceDate", doc.performed_at.date().isoformat())
    _el(core, "performanceLocation", "laboratory")
    _el(core, "issueDate", doc.issued_at.date().isoformat())

    items = _el(adm, "items")
    item = _el(items, "item", refType="labcal_pipette")
    _text(item, "name", f"Piston pipette, {doc.channels} channel(s), {doc.nominal_volume_ul:g} µL")
    _text(
        item,
        "description",
        f"{doc.pipette_kind}; nominal volume {doc.nominal_volume_ul:g} µL; "
        f"{doc.channels} channel(s); tip: {doc.tip or NOT_STATED}",
    )
    _text(_el(item, "manufacturer"), "name", doc.make)
    _el(item, "model", doc.model)
    ident = _el(_el(item, "identifications"), "identification")
    _el(ident, "issuer", "manufacturer")
    _el(ident, "value", doc.serial)
    _text(ident, "name", "Serial number")
    quantities = _el(item, "itemQuantities")
    for name, ref, value, unit in (
        ("Nominal volume", "labcal_nominalVolume", doc.nominal_volume_ul, _UL),
        ("Channels", "labcal_channels", float(doc.channels), "\\one"),
    ):
        q = _el(quantities, "itemQuantity", refType=ref)
        _text(q, "name", name)
        _real(q, value, unit)

    cal_lab = _el(adm, "calibrationLaboratory")
    if lab.accreditation_id:
        _el(cal_lab, "calibrationLaboratoryCode", lab.accreditation_id)
    _contact(cal_lab, "contact", lab.name, lab.address)
    _el(cal_lab, "cryptElectronicSignature", "true")

    person = _el(_el(adm, "respPersons"), "respPerson")
    _text(_el(person, "person"), "name", lab.signatory_name or NOT_STATED)
    _el(person, "role", lab.signatory_role or NOT_STATED)
    _el(person, "mainSigner", "true")

    customer = _el(adm, "customer")
    _text(customer, "name", doc.customer)
    _location(customer, doc.customer_address)

    statements = _el(adm, "statements")
    # a binary statement only for the two verdicts that make one (certificates/conformity.py)
    conformity = {"conforming": "pass", "not_conforming": "fail"}.get(doc.verdict)
    _statement(
        statements,
        "Conformity",
        _verdict_sentence(doc),
        ref="labcal_conformity",
        norm=doc.mpe_edition,
        conformity=conformity,
    )
    if doc.channels > 1:
        w = doc.worst_channel
        _statement(
            statements,
            "Worst channel",
            f"channel {w.channel}: {'PASS' if w.passed else 'FAIL'} (at {w.worst.volume_ul:g} µL "
            f"its larger error is {w.worst.ratio:.2f} × its MPE)",
            ref="labcal_worstChannel",
            conformity="pass" if w.passed else "fail",
        )
    _statement(
        statements,
        "Uncertainty",
        "The expanded uncertainty U is the combined standard uncertainty multiplied by the "
        f"coverage factor {doc.coverage_text}, the Student t factor for the effective degrees "
        "of freedom (Welch-Satterthwaite), at a coverage probability of "
        f"{100 * doc.coverage_probability:.2f} % (JCGM 100, GUM).",
        ref="labcal_uncertainty",
    )
    _statement(
        statements,
        "Scope",
        "The results relate only to the item calibrated.",
        ref="labcal_scope",
    )
    for finding in doc.findings:
        _statement(statements, "Finding", finding, ref="labcal_finding")
    if doc.next_due is not None:
        _statement(
            statements,
            "Next calibration due",
            "as agreed with the customer",
            ref="labcal_nextDue",
            date=doc.next_due.isoformat(),
        )


def _equipment(parent: etree._Element, instruments: Iterable[InstrumentRow]) -> None:
    eq = _el(parent, "measuringEquipments")
    for i in instruments:
        me = _el(eq, "measuringEquipment", refType=f"labcal_{i.role}")
        _text(me, "name", i.role)
        until = NOT_STATED if i.valid_until is None else i.valid_until.isoformat()
        _text(
            me,
            "description",
            f"identification: {i.identification or NOT_STATED}; calibration certificate: "
            f"{i.certificate or NOT_STATED}; calibrated by: {i.calibrated_by or NOT_STATED}; "
            f"valid until: {until}",
        )


def _conditions(parent: etree._Element, doc: CertificateDocument) -> None:
    conds = _el(parent, "influenceConditions")
    for n, e in enumerate(doc.environment, start=1):
        values: list[tuple[str, str, float | None, str]] = [
            ("Air temperature", "labcal_airTemperature", e.air_temp_c, "\\degreecelsius"),
            ("Water temperature", "labcal_waterTemperature", e.water_temp_c, "\\degreecelsius"),
            ("Air pressure", "labcal_airPressure", e.pressure_kpa, "\\kilo\\pascal"),
            ("Relative humidity", "labcal_humidity", e.humidity_pct, _PCT),
        ]
        for name, ref, value, unit in values:
            c = _el(conds, "influenceCondition", refType=ref)
            _text(c, "name", f"{name} (sample {n})")
            data = _el(c, "data")
            if value is None:
                _text(data, "text", "not recorded")
            else:
                _quantity(data, name, ref, value, unit)
    z = _el(conds, "influenceCondition", refType="labcal_zFactor")
    _text(z, "name", "Z factor")
    _quantity(
        _el(z, "data"),
        "Z factor",
        "labcal_zFactor",
        doc.z_factor,
        "\\micro\\litre\\milli\\gram\\tothe{-1}",
    )


def _result(results: etree._Element, v: VolumeRow, probability: float) -> None:
    r = _el(results, "result", refType="labcal_volumeResult")
    _text(r, "name", f"Channel {v.channel}, test volume {v.volume_ul:g} µL")
    data = _el(r, "data")
    _quantity(data, "Test volume", "labcal_testVolume", v.volume_ul, _UL)
    _quantity(data, "Channel", "labcal_channel", float(v.channel), "\\one")
    _quantity(
        data,
        "Mean delivered volume",
        "labcal_meanVolume",
        v.mean_ul,
        _UL,
        uncertainty=v.uncertainty_ul,
        k=v.coverage_factor,
        probability=probability,
    )
    _quantity(data, "Systematic error", "labcal_systematicError", v.systematic_error_ul, _UL)
    _quantity(data, "Systematic error", "labcal_systematicErrorRel", v.systematic_error_pct, _PCT)
    _quantity(data, "MPE systematic", "labcal_mpeSystematic", v.mpe_systematic_ul, _UL)
    _quantity(data, "Random error", "labcal_randomError", v.random_error_ul, _UL)
    _quantity(data, "Coefficient of variation", "labcal_cv", v.cv_pct, _PCT)
    verdict = _quantity(data, "MPE random", "labcal_mpeRandom", v.mpe_random_ul, _UL)
    meta = _el(_el(verdict, "measurementMetaData"), "metaData", refType="labcal_verdict")
    _text(meta, "name", "Verdict at this volume")
    _text(meta, "declaration", "PASS" if v.passed else "FAIL")
    _el(meta, "conformity", "pass" if v.passed else "fail")
    if v.replicates_ul:
        q = _el(data, "quantity", refType="labcal_replicates")
        _text(q, "name", "Replicate volumes")
        lst = etree.SubElement(q, _S + "realListXMLList")
        etree.SubElement(lst, _S + "valueXMLList").text = " ".join(
            repr(float(x)) for x in v.replicates_ul
        )
        etree.SubElement(lst, _S + "unitXMLList").text = _UL


def _measurement(
    parent: etree._Element,
    doc: CertificateDocument,
    name: str,
    volumes: tuple[VolumeRow, ...],
    ref: str,
) -> None:
    m = _el(parent, "measurementResult", refType=ref)
    _text(m, "name", name)
    method = _el(_el(m, "usedMethods"), "usedMethod")
    _text(method, "name", doc.method)
    _el(method, "norm", doc.method.split(",")[0].strip())
    _el(method, "norm", doc.mpe_edition)
    _equipment(m, doc.instruments)
    _conditions(m, doc)
    results = _el(m, "results")
    for v in sorted(volumes, key=lambda v: (v.channel, v.volume_ul)):
        _result(results, v, doc.coverage_probability)


def render_dcc(doc: CertificateDocument) -> bytes:
    """The unsigned DCC (UTF-8 XML); :mod:`.dcc_signing` adds the enveloped signature."""
    root = etree.Element(
        _D + "digitalCalibrationCertificate",
        {"schemaVersion": SCHEMA_VERSION},
        nsmap={"dcc": DCC_NS, "si": SI_NS, "ds": DS_NS},
    )
    _administrative(root, doc)
    results = _el(root, "measurementResults")
    phase = f" ({doc.phase})" if doc.phase else ""
    ref = {"as left": "labcal_asLeft", "as found": "labcal_asFound"}.get(
        doc.phase or "", "labcal_calibration"
    )
    _measurement(results, doc, f"Gravimetric calibration{phase}", doc.volumes, ref)
    found: PhaseResults | None = doc.as_found
    if found is not None:
        _measurement(
            results,
            doc,
            f"Gravimetric calibration (as found, {found.performed_at:%Y-%m-%d %H:%M})",
            found.volumes,
            "labcal_asFoundBeforeAdjustment",
        )
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out
