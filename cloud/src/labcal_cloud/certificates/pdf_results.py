"""The results part of a certificate: every channel's results, the channels' verdicts, the
replicate volumes, and the as-found results beside the as-left ones when both exist.

Tables, not free text: with 8 or 12 channels × 3 volumes they run over pages with their heading
row repeated, and a long replicate list wraps inside its cell.
"""

from __future__ import annotations

from labcal_cloud.certificates.document import CertificateDocument, VolumeRow
from labcal_cloud.certificates.pdf_layout import CertificatePdf, heading, kv, table

__all__ = ["results_sections"]

_HEAD = (
    "Ch.",
    "Volume µL",
    "Mean µL",
    "Syst. error µL",
    "Syst. %",
    "MPE syst. ±µL",
    "Random error µL",
    "CV %",
    "MPE random µL",
    "U µL",
    "k",
    "Result",
)
_WIDTHS = (6, 10, 12, 11, 9, 10, 11, 8, 10, 10, 6, 9)


def _cells(v: VolumeRow) -> tuple[object, ...]:
    return (
        v.channel,
        f"{v.volume_ul:g}",
        f"{v.mean_ul:.4f}",
        f"{v.systematic_error_ul:+.4f}",
        f"{v.systematic_error_pct:+.2f}",
        f"{v.mpe_systematic_ul:g}",
        f"{v.random_error_ul:.4f}",
        f"{v.cv_pct:.2f}",
        f"{v.mpe_random_ul:g}",
        f"{v.uncertainty_ul:.4f}",
        f"{v.coverage_factor:.2f}",
        "PASS" if v.passed else "FAIL",
    )


def _ordered(volumes: tuple[VolumeRow, ...]) -> list[VolumeRow]:
    return sorted(volumes, key=lambda v: (v.channel, v.volume_ul))


def results_sections(pdf: CertificatePdf, doc: CertificateDocument) -> None:
    phase = f" ({doc.phase})" if doc.phase else ""
    heading(pdf, f"Results{phase}")
    channels = sorted({v.channel for v in doc.volumes})
    if doc.channels > 1:
        kv(
            pdf,
            "Channels tested",
            f"{len(channels)} of {doc.channels}: " + ", ".join(str(c) for c in channels),
        )
    table(pdf, _HEAD, [_cells(v) for v in _ordered(doc.volumes)], _WIDTHS, align_first=1)
    if doc.channels > 1:
        heading(pdf, "Verdict per channel")
        rows = [
            (
                c.channel,
                "PASS" if c.passed else "FAIL",
                f"{c.worst.volume_ul:g}",
                f"{c.worst.ratio:.2f}",
            )
            for c in doc.channel_verdicts
        ]
        table(
            pdf,
            ("Channel", "Result", "Worst volume µL", "Larger error / MPE"),
            rows,
            (15, 15, 20, 20),
            align_first=2,
        )
    heading(pdf, "Replicate volumes (µL)")
    table(
        pdf,
        ("Ch.", "Volume µL", "Replicates (µL)"),
        [
            (v.channel, f"{v.volume_ul:g}", ", ".join(f"{r:.3f}" for r in v.replicates_ul))
            for v in _ordered(doc.volumes)
        ],
        (6, 10, 96),
        size=7,
    )
    if doc.as_found is not None:
        found = doc.as_found
        heading(pdf, f"Results as found ({found.performed_at:%Y-%m-%d %H:%M})")
        kv(pdf, "As found", "PASSED" if found.passed else "FAILED")
        table(pdf, _HEAD, [_cells(v) for v in _ordered(found.volumes)], _WIDTHS, align_first=1)
