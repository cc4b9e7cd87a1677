"""A schema check of the DCC elements LabCal writes, transcribed from the DCC 3.3.0 XSD.

No registry package ships the PTB DCC XSD (the ones on PyPI download it from ptb.de at run
time, which this project cannot), so this module holds, for every element LabCal writes, the
3.3.0 schema's child sequence (order, min/max occurrences) and leaf types (xs:date, xs:double,
xs:boolean, enumerations, the ISO 3166/639 patterns, non-empty strings). :func:`check` returns
every violation with its path; an empty list means the file keeps to it. Elements the schema
allows but LabCal does not write are listed as optional, so their absence is never an error.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

DCC = "https://ptb.de/dcc"
SI = "https://ptb.de/si"
DS = "http://www.w3.org/2000/09/xmldsig#"
U = 2**31  # unbounded

# type name -> ("seq" | "all", [(namespace, element, type, min, max)])
Child = tuple[str, str, str, int, int]
TYPES: dict[str, tuple[str, list[Child]]] = {
    "root": (
        "seq",
        [
            (DCC, "administrativeData", "administrativeData", 1, 1),
            (DCC, "measurementResults", "measurementResultList", 1, 1),
            (DCC, "comment", "any", 0, 1),
            (DCC, "document", "any", 0, 1),
            (DS, "Signature", "any", 0, U),
        ],
    ),
    "administrativeData": (
        "all",
        [
            (DCC, "dccSoftware", "softwareList", 1, 1),
            (DCC, "refTypeDefinitions", "any", 0, 1),
            (DCC, "coreData", "coreData", 1, 1),
            (DCC, "items", "itemList", 1, 1),
            (DCC, "calibrationLaboratory", "calibrationLaboratory", 1, 1),
            (DCC, "respPersons", "respPersonList", 1, 1),
            (DCC, "customer", "contact", 1, 1),
            (DCC, "statements", "statementList", 0, 1),
        ],
    ),
    "softwareList": ("seq", [(DCC, "software", "software", 1, U)]),
    "software": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "release", "notEmpty", 1, 1),
            (DCC, "type", "softwareKind", 0, 1),
            (DCC, "description", "rich", 0, 1),
        ],
    ),
    "coreData": (
        "seq",
        [
            (DCC, "countryCodeISO3166_1", "iso3166", 1, 1),
            (DCC, "usedLangCodeISO639_1", "iso639", 1, U),
            (DCC, "mandatoryLangCodeISO639_1", "iso639", 1, U),
            (DCC, "uniqueIdentifier", "notEmpty", 1, 1),
            (DCC, "identifications", "identificationList", 0, 1),
            (DCC, "receiptDate", "date", 0, 1),
            (DCC, "beginPerformanceDate", "date", 1, 1),
            (DCC, "endPerformanceDate", "date", 1, 1),
            (DCC, "performanceLocation", "performanceLocation", 1, 1),
            (DCC, "issueDate", "date", 0, 1),
            (DCC, "reportAmendedSubstituted", "any", 0, 1),
            (DCC, "previousReport", "any", 0, 1),
        ],
    ),
    "itemList": (
        "seq",
        [
            (DCC, "name", "text", 0, 1),
            (DCC, "equipmentClass", "any", 0, U),
            (DCC, "description", "rich", 0, 1),
            (DCC, "owner", "contact", 0, 1),
            (DCC, "manufacturer", "contactNotStrict", 0, 1),
            (DCC, "identifications", "identificationList", 0, 1),
            (DCC, "item", "item", 1, U),
        ],
    ),
    "item": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "equipmentClass", "any", 0, U),
            (DCC, "description", "rich", 0, 1),
            (DCC, "owner", "contact", 0, 1),
            (DCC, "installedSoftwares", "softwareList", 0, 1),
            (DCC, "manufacturer", "contactNotStrict", 0, 1),
            (DCC, "model", "notEmpty", 0, 1),
            (DCC, "identifications", "identificationList", 1, 1),
            (DCC, "itemQuantities", "itemQuantityList", 0, 1),
            (DCC, "subItems", "itemList", 0, 1),
        ],
    ),
    "itemQuantityList": ("seq", [(DCC, "itemQuantity", "primitiveQuantity", 1, U)]),
    "primitiveQuantity": (
        "seq",
        [
            (DCC, "name", "text", 0, 1),
            (DCC, "description", "rich", 0, 1),
            (SI, "real", "siReal", 1, 1),
        ],
    ),
    "identificationList": ("seq", [(DCC, "identification", "identification", 1, U)]),
    "identification": (
        "seq",
        [
            (DCC, "issuer", "issuer", 1, 1),
            (DCC, "value", "notEmpty", 1, 1),
            (DCC, "name", "text", 0, 1),
        ],
    ),
    "calibrationLaboratory": (
        "seq",
        [
            (DCC, "calibrationLaboratoryCode", "notEmpty", 0, 1),
            (DCC, "contact", "contact", 1, 1),
            (DCC, "cryptElectronicSeal", "boolean", 0, 1),
            (DCC, "cryptElectronicSignature", "boolean", 0, 1),
            (DCC, "cryptElectronicTimeStamp", "boolean", 0, 1),
        ],
    ),
    "respPersonList": ("seq", [(DCC, "respPerson", "respPerson", 1, U)]),
    "respPerson": (
        "seq",
        [
            (DCC, "person", "contactNotStrict", 1, 1),
            (DCC, "description", "rich", 0, 1),
            (DCC, "role", "notEmpty", 0, 1),
            (DCC, "mainSigner", "boolean", 0, 1),
            (DCC, "cryptElectronicSeal", "boolean", 0, 1),
            (DCC, "cryptElectronicSignature", "boolean", 0, 1),
            (DCC, "cryptElectronicTimeStamp", "boolean", 0, 1),
        ],
    ),
    "contact": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "eMail", "notEmpty", 0, 1),
            (DCC, "phone", "notEmpty", 0, 1),
            (DCC, "fax", "notEmpty", 0, 1),
            (DCC, "link", "notEmpty", 0, 1),
            (DCC, "location", "location", 1, 1),
            (DCC, "descriptionData", "any", 0, 1),
        ],
    ),
    "contactNotStrict": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "eMail", "notEmpty", 0, 1),
            (DCC, "phone", "notEmpty", 0, 1),
            (DCC, "fax", "notEmpty", 0, 1),
            (DCC, "link", "notEmpty", 0, 1),
            (DCC, "location", "location", 0, 1),
            (DCC, "descriptionData", "any", 0, 1),
        ],
    ),
    "location": ("seq", [(DCC, "further", "rich", 1, U)]),  # a choice; LabCal writes further
    "statementList": ("seq", [(DCC, "statement", "statement", 1, U)]),
    "statement": (
        "seq",
        [
            (DCC, "name", "text", 0, 1),
            (DCC, "description", "rich", 0, 1),
            (DCC, "countryCodeISO3166_1", "iso3166", 0, U),
            (DCC, "convention", "notEmpty", 0, 1),
            (DCC, "traceable", "boolean", 0, 1),
            (DCC, "norm", "notEmpty", 0, U),
            (DCC, "reference", "notEmpty", 0, U),
            (DCC, "link", "notEmpty", 0, U),
            (DCC, "declaration", "rich", 0, 1),
            (DCC, "valid", "boolean", 0, 1),
            (DCC, "date", "date", 0, 1),
            (DCC, "period", "notEmpty", 0, 1),
            (DCC, "respAuthority", "contact", 0, 1),
            (DCC, "conformity", "conformity", 0, 1),
            (DCC, "data", "data", 0, 1),
        ],
    ),
    "measurementResultList": (
        "seq",
        [
            (DCC, "usedMethods", "usedMethodList", 0, 1),
            (DCC, "usedSoftware", "softwareList", 0, 1),
            (DCC, "measuringEquipments", "measuringEquipmentList", 0, 1),
            (DCC, "influenceConditions", "influenceConditionList", 0, 1),
            (DCC, "measurementMetaData", "metaDataList", 0, 1),
            (DCC, "measurementResult", "measurementResult", 1, U),
        ],
    ),
    "measurementResult": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "description", "rich", 0, 1),
            (DCC, "usedMethods", "usedMethodList", 0, 1),
            (DCC, "usedSoftware", "softwareList", 0, 1),
            (DCC, "measuringEquipments", "measuringEquipmentList", 0, 1),
            (DCC, "influenceConditions", "influenceConditionList", 0, 1),
            (DCC, "results", "resultList", 1, 1),
            (DCC, "measurementMetaData", "metaDataList", 0, 1),
        ],
    ),
    "usedMethodList": ("seq", [(DCC, "usedMethod", "usedMethod", 1, U)]),
    "usedMethod": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "description", "rich", 0, 1),
            (DCC, "norm", "notEmpty", 0, U),
            (DCC, "reference", "notEmpty", 0, U),
        ],
    ),
    "measuringEquipmentList": (
        "seq",
        [(DCC, "name", "text", 0, 1), (DCC, "measuringEquipment", "measuringEquipment", 1, U)],
    ),
    "measuringEquipment": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "equipmentClass", "any", 0, U),
            (DCC, "description", "rich", 0, 1),
            (DCC, "certificate", "any", 0, 1),
            (DCC, "manufacturer", "contactNotStrict", 0, 1),
            (DCC, "model", "notEmpty", 0, 1),
            (DCC, "identifications", "identificationList", 0, 1),
        ],
    ),
    "influenceConditionList": ("seq", [(DCC, "influenceCondition", "condition", 1, U)]),
    "condition": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "description", "rich", 0, 1),
            (DCC, "status", "notEmpty", 0, 1),
            (DCC, "certificate", "any", 0, 1),
            (DCC, "data", "data", 1, 1),
        ],
    ),
    "resultList": ("seq", [(DCC, "result", "result", 1, U)]),
    "result": (
        "seq",
        [
            (DCC, "name", "text", 1, 1),
            (DCC, "description", "rich", 0, 1),
            (DCC, "data", "data", 1, 1),
        ],
    ),
    "data": ("choice", [(DCC, "text", "rich", 0, U), (DCC, "quantity", "quantity", 0, U)]),
    "quantity": (
        "seq",
        [
            (DCC, "name", "text", 0, 1),
            (DCC, "description", "rich", 0, 1),
            (SI, "real|realListXMLList", "siValue", 1, 1),
            (DCC, "relativeUncertainty", "any", 0, 1),
            (DCC, "usedMethods", "usedMethodList", 0, 1),
            (DCC, "usedSoftware", "softwareList", 0, 1),
            (DCC, "measuringEquipments", "measuringEquipmentList", 0, 1),
            (DCC, "influenceConditions", "influenceConditionList", 0, 1),
            (DCC, "measurementMetaData", "metaDataList", 0, 1),
        ],
    ),
    "metaDataList": ("seq", [(DCC, "metaData", "statement", 1, U)]),
    "text": ("seq", [(DCC, "content", "stringWithLang", 1, U)]),
    "rich": ("seq", [(DCC, "name", "text", 0, 1), (DCC, "content", "stringWithLang", 0, U)]),
    "siReal": (
        "seq",
        [
            (SI, "label", "string", 0, 1),
            (SI, "quantityTypeQUDT", "string", 0, 1),
            (SI, "value", "double", 1, 1),
            (SI, "unit", "siUnit", 1, 1),
            (SI, "dateTime", "string", 0, 1),
            (SI, "measurementUncertaintyUnivariate", "siUncertainty", 0, 1),
        ],
    ),
    "siList": (
        "seq",
        [(SI, "valueXMLList", "doubleList", 1, 1), (SI, "unitXMLList", "siUnit", 1, 1)],
    ),
    "siUncertainty": ("seq", [(SI, "expandedMU", "siExpanded", 1, 1)]),
    "siExpanded": (
        "seq",
        [
            (SI, "valueExpandedMU", "double", 1, 1),
            (SI, "coverageFactor", "double", 1, 1),
            (SI, "coverageProbability", "probability", 1, 1),
            (SI, "distribution", "string", 0, 1),
        ],
    ),
}

_ENUMS = {
    "softwareKind": {"application", "bios", "driver", "editor", "firmware", "library", "os"},
    "issuer": {"manufacturer", "calibrationLaboratory", "customer", "owner", "other"},
    "performanceLocation": {"laboratory", "customer", "laboratoryBranch", "customerBranch"},
    "conformity": {"pass", "fail", "conditionalPass", "conditionalFail", "noPass", "noFail"},
    "boolean": {"true", "false", "1", "0"},
}
_NOT_EMPTY = re.compile(r"[^\s]+(\s+[^\s]+)*")
_DOUBLE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN")


def _leaf(kind: str, e: etree._Element, path: str) -> list[str]:
    text = e.text or ""
    if len(e):
        return [f"{path}: a {kind} value has no child elements"]
    ok = True
    if kind in _ENUMS:
        ok = text in _ENUMS[kind] or (kind == "softwareKind" and text == "other")
    elif kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            ok = False
    elif kind == "double":
        ok = bool(_DOUBLE.fullmatch(text))
    elif kind == "doubleList":
        ok = bool(text.split()) and all(_DOUBLE.fullmatch(x) for x in text.split())
    elif kind == "probability":
        ok = bool(_DOUBLE.fullmatch(text)) and 0 < float(text) <= 1
    elif kind == "iso3166":
        ok = bool(re.fullmatch(r"[A-Z]{2}", text))
    elif kind in ("iso639",):
        ok = bool(re.fullmatch(r"[a-z]{2}", text))
    elif kind in ("notEmpty", "siUnit"):
        ok = bool(_NOT_EMPTY.fullmatch(text)) and (kind != "siUnit" or text.startswith("\\"))
    elif kind == "stringWithLang":
        lang = e.get("lang")
        ok = lang is None or bool(re.fullmatch(r"[a-z]{2}", lang))
    return [] if ok else [f"{path}: {text!r} is not a valid {kind}"]


def _check(e: etree._Element, kind: str, path: str) -> list[str]:
    if kind == "any":
        return []
    if kind == "siValue":  # si:real or si:realListXMLList
        return _check(e, "siReal" if etree.QName(e).localname == "real" else "siList", path)
    if kind not in TYPES:
        return _leaf(kind, e, path)
    mode, children = TYPES[kind]
    problems: list[str] = []
    if (e.text or "").strip():
        problems.append(f"{path}: text {e.text!r} where only elements are allowed")
    kids = [c for c in e if isinstance(c.tag, str)]
    names = [(etree.QName(c).namespace, etree.QName(c).localname) for c in kids]

    def spec_of(ns: str | None, name: str) -> Child | None:
        for s in children:
            if s[0] == ns and name in s[1].split("|"):
                return s
        return None

    order = []
    for c, (ns, name) in zip(kids, names, strict=True):
        spec = spec_of(ns, name)
        if spec is None:
            problems.append(f"{path}: unexpected element {name}")
            continue
        order.append(children.index(spec))
        problems += _check(c, spec[2], f"{path}/{name}")
    if mode == "seq" and order != sorted(order):
        problems.append(f"{path}: children out of the schema's order: {[n for _, n in names]}")
    for i, (_ns, name, _, low, high) in enumerate(children):
        n = order.count(i)
        if not low <= n <= high:
            problems.append(f"{path}: {name} occurs {n} times (allowed {low}..{high})")
    if mode == "choice" and not kids:
        problems.append(f"{path}: empty (needs at least one of {[c[1] for c in children]})")
    return problems


def check(xml: bytes) -> list[str]:
    """Every way ``xml`` departs from the DCC 3.3.0 schema as far as LabCal writes it."""
    root = etree.fromstring(xml)
    qn = etree.QName(root)
    if (qn.namespace, qn.localname) != (DCC, "digitalCalibrationCertificate"):
        return [f"root is {root.tag}, not dcc:digitalCalibrationCertificate"]
    problems = [] if root.get("schemaVersion") == "3.3.0" else ["schemaVersion is not 3.3.0"]
    return problems + _check(root, "root", "dcc:digitalCalibrationCertificate")
