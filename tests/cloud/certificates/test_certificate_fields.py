"""Done when (issue 16): the text of real certificates holds every ISO/IEC 17025 §7.8 field, for a
single-channel and an 8-channel pipette, conforming and not conforming, on SQLite and PostgreSQL.

The certificates come from the real cloud path (ingest core → store → engine records → certify,
see ``pipeline_runs``) and their text from pdftotext, as an auditor's tools would read them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ..portal.helpers import World
from .pdf_text import pages, words
from .pipeline_runs import (
    CUSTOMER_ADDRESS,
    INSTRUMENTS,
    LAB,
    certify_through_pipeline,
    pipette_run,
    set_profiles,
)

END = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)  # the test clock is 2026-03-02 09:00
VOLUMES = (100.0, 50.0, 10.0)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _result_rows(text: str, channel: int, volume: float) -> list[str]:
    """Lines of a results table (they end with the verdict) for one channel and volume."""
    pattern = re.compile(rf"^\s*{channel}\s+{volume:g}\s+\S.*\s(PASS|FAIL)\s*$", re.M)
    return [m.group(0) for m in pattern.finditer(text)]


CASES = {
    # name: (channels, conforming)
    "single-conforming": (1, True),
    "single-not-conforming": (1, False),
    "8ch-conforming": (8, True),
    "8ch-not-conforming": (8, False),
}


@pytest.mark.parametrize("case", CASES)
def test_certificate_text_has_every_17025_field(
    any_world: World, tmp_path: Path, case: str
) -> None:
    channels, conforming = CASES[case]
    set_profiles(any_world, next_due_asked=conforming)
    if conforming:  # adjusted: an as-found run that failed, then the as-left one
        runs = [
            pipette_run("S-1", channels=channels, ended_at=END - timedelta(hours=2),
                        phase="as_found", bias_ul={1: 2.5}),
            pipette_run("S-1", channels=channels, ended_at=END, phase="as_left"),
        ]  # fmt: skip
    else:  # channel 1 (single) or 3 (8 channels) off by more than its MPE; no hygrometer sent
        bad = 1 if channels == 1 else 3
        runs = [
            pipette_run("S-1", channels=channels, ended_at=END, bias_ul={bad: 2.5},
                        instruments=INSTRUMENTS[:3]),
        ]  # fmt: skip
    issued = certify_through_pipeline(any_world, *runs)
    last = issued[-1]
    assert last.record.ended_at == END
    assert last.record.passed is conforming
    _, pdf = any_world.services.certificates.pdf(any_world.a.tenant.id, last.calibration.id)
    texts = pages(pdf, tmp_path)
    text = "\n".join(texts)
    flat = _flat(text)
    number = last.calibration.number

    # the certificate number, "page x of y" and the scope statement on every page
    assert len(texts) >= 2
    for i, page in enumerate(texts, start=1):
        assert f"No. {number}" in page, i
        assert re.search(rf"Page {i} of\s+{len(texts)}\b", page), i
        assert "The results relate only to the item calibrated" in _flat(page), i

    # issuer, customer, item and tip
    for expected in (LAB.name, LAB.address, LAB.accreditation_id, "Lab A", CUSTOMER_ADDRESS):
        assert expected in flat, expected
    assert re.search(r"Make\s+Acme\b", text)
    assert re.search(rf"Model\s+P100-{channels}ch\b", text)
    assert re.search(r"Serial number\s+S-1\b", text)
    assert re.search(rf"Channels\s+{channels}\b", text)
    assert "Acme T-200 filter tip, lot L2026-11" in flat

    # method with its edition; dates of receipt, calibration and issue
    assert "ISO 8655-6:2022, gravimetric method" in flat
    assert "ISO 8655-2:2002" in flat
    assert re.search(r"Date of receipt\s+2026-02-27\b", text)
    assert re.search(r"Date of calibration\s+2026-03-01 14:00", text)
    assert re.search(rf"Date of issue\s+{any_world.clock().date().isoformat()}\b", text)

    # traceability of balance, thermometer, barometer, hygrometer
    sent = INSTRUMENTS if conforming else INSTRUMENTS[:3]
    for i in sent:
        line = next(x for x in text.splitlines() if x.strip().startswith(i.role.value))
        assert f"{i.make} {i.model}, serial {i.serial}" in line, i.role
        assert i.certificate
        assert i.certificate in line, i.role
    if not conforming:
        assert re.search(r"^\s*hygrometer\s+not stated\s+not stated", text, re.M)

    # every channel's results at every volume; the verdict and the worst channel
    for ch in range(1, channels + 1):
        for v in VOLUMES:
            assert _result_rows(text, ch, v), (ch, v)
    if conforming:
        assert "Conforming: conformity with the stated limits is declared" in flat
    else:
        assert "Not conforming: at least one result is outside its limit" in flat
        assert "conformity with the stated limits is declared" not in flat
    assert "Decision rule: simple acceptance" in flat
    if channels > 1:
        worst = r"channel 3: FAIL" if not conforming else r"channel \d+: PASS"
        assert re.search(rf"Worst channel\s+{worst}", text)
        assert re.search(r"Channels tested\s+8 of 8: 1, 2, 3, 4, 5, 6, 7, 8", text)

    # as found beside as left where both exist
    if conforming:
        assert "Results (as left)" in flat
        assert "Results as found" in flat
        assert re.search(r"As found\s+FAILED", text)
        assert "FAIL" in "".join(_result_rows(text, 1, 100.0))  # the as-found row of channel 1
    else:
        assert "as found" not in flat.lower()

    # the uncertainty statement with k and the coverage probability
    assert re.search(
        r"coverage factor k (= [\d.]+|from [\d.]+ to [\d.]+ \(stated with each result\))", flat
    )
    assert "coverage probability of 95.45 % (approximately 95 %)" in flat
    assert re.search(r"U µL\s+k\b", text)

    # authorised signatory; next due only when the customer asked
    assert re.search(rf"Name\s+{re.escape(LAB.signatory_name)}", text)
    assert re.search(rf"Role\s+{re.escape(LAB.signatory_role)}", text)
    assert ("Next calibration due" in flat) is conforming
    assert any_world.services.certificates.signer.verify(pdf).valid


def test_a_12_channel_certificate_stays_readable(any_world: World, tmp_path: Path) -> None:
    """12 channels × 3 volumes run over pages: the results table's heading is repeated on every
    page it continues on, no word runs past the right margin, and every page is numbered."""
    set_profiles(any_world, next_due_asked=False)
    [issued] = certify_through_pipeline(
        any_world, pipette_run("S-12", channels=12, ended_at=END, bias_ul={7: 2.5})
    )
    _, pdf = any_world.services.certificates.pdf(any_world.a.tenant.id, issued.calibration.id)
    texts = pages(pdf, tmp_path)
    assert len(texts) >= 3
    continued = 0
    for i, page in enumerate(texts, start=1):
        assert re.search(rf"Page {i} of\s+{len(texts)}\b", page)
        if any(_result_rows(page, ch, v) for ch in range(1, 13) for v in VOLUMES):
            continued += 1
            assert re.search(r"Ch\.\s+Volume µL\s+Mean µL", page), i  # heading repeated
    assert continued >= 1
    for ch in range(1, 13):
        for v in VOLUMES:
            assert _result_rows("\n".join(texts), ch, v), (ch, v)
    width, found = words(pdf, tmp_path)
    margin = 12 / 25.4 * 72  # the 12 mm page margin, in pt
    assert found
    overflow = [w for w in found if w.x_max > width - margin + 1 or w.x_min < margin - 1]
    assert overflow == []
    assert "channel 7: FAIL" in _flat("\n".join(texts))
