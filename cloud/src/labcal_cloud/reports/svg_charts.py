"""Small server-rendered SVG charts: a line chart with a tolerance band, and a bar chart."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["BAR_COLOUR", "MIN_BAR", "MPE_COLOUR", "bar_chart", "line_chart"]

W, H, PAD = 420, 200, 34
BAR_COLOUR = "#0b5cad"
MIN_BAR = 4.0
"""The smallest height (px of the 200 px chart) of a bar whose value is above zero."""
MPE_COLOUR = "#b3261e"


def _scale(lo: float, hi: float, size: float, invert: bool) -> tuple[float, float]:
    span = hi - lo or 1.0
    k = (size - 2 * PAD) / span
    return (-k, H - PAD + lo * k) if invert else (k, PAD - lo * k)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    band: Sequence[float] | None = None,
    unit: str = "",
) -> str:
    """Lines over x = index; ``band`` draws ±limit per point (e.g. the MPE) as a shaded area."""
    limits = list(band or [])
    values = [v for _, vs, _ in series for v in vs] + limits + [-b for b in limits] + [0.0]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or 1.0
    ky, cy = _scale(lo - pad, hi + pad, H, invert=True)
    n = max(len(labels), 1)
    step = (W - 2 * PAD) / max(n - 1, 1)

    def x(i: int) -> float:
        return PAD + i * step if n > 1 else W / 2

    def y(v: float) -> float:
        return cy + ky * v

    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD}" y1="{y(0):.1f}" x2="{W - PAD}" y2="{y(0):.1f}" stroke="#999"/>',
    ]
    if band:
        upper = " ".join(f"{x(i):.1f},{y(b):.1f}" for i, b in enumerate(band))
        lower = " ".join(f"{x(i):.1f},{y(-b):.1f}" for i, b in reversed(list(enumerate(band))))
        parts.append(f'<polygon points="{upper} {lower}" fill="#1b7f3b" fill-opacity="0.10"/>')
        for sign in (1, -1):  # the limits themselves: dashed lines at +MPE and -MPE
            edge = " ".join(f"{x(i):.1f},{y(sign * b):.1f}" for i, b in enumerate(band))
            if len(band) == 1:  # one calibration: a line across the chart
                edge = f"{PAD},{y(sign * band[0]):.1f} {W - PAD},{y(sign * band[0]):.1f}"
            parts.append(
                f'<polyline class="mpe" points="{edge}" fill="none" stroke="{MPE_COLOUR}"'
                ' stroke-width="1.5" stroke-dasharray="5 3"/>'
            )
        parts.append(
            f'<text x="{W - PAD}" y="{y(band[-1]) - 4:.1f}" font-size="10" '
            f'text-anchor="end" fill="{MPE_COLOUR}">+MPE {band[-1]:g}{escape(unit)}</text>'
        )
        parts.append(
            f'<text x="{W - PAD}" y="{y(-band[-1]) + 12:.1f}" font-size="10" '
            f'text-anchor="end" fill="{MPE_COLOUR}">−MPE</text>'
        )
    for name, vs, colour in series:
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
            f"<title>{escape(name)} {v:.3f}{escape(unit)}</title></circle>"
            for i, v in enumerate(vs)
        )
    for i, label in enumerate(labels):
        if n <= 8 or i % max(1, n // 6) == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{H - 8}" font-size="10" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    for tick in sorted({round(lo, 2), 0.0, round(hi, 2)}):
        parts.append(
            f'<text x="{PAD - 4}" y="{y(tick) + 3:.1f}" font-size="9" text-anchor="end">'
            f"{tick:g}</text>"
        )
    parts.append(f'<text x="4" y="{PAD - 12}" font-size="10">{escape(unit)}</text>')
    legend_x = PAD
    for name, _, colour in series:
        parts.append(
            f'<text x="{legend_x}" y="14" font-size="11" fill="{colour}">■ {escape(name)}</text>'
        )
        legend_x += 12 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    unit: str = "",
    colours: Sequence[str] | None = None,
) -> str:
    """Bars with their value written on top; a value above zero gets at least
    :data:`MIN_BAR` px, so 2 of 400 is still seen; ``colours`` per bar (default: the brand)."""
    top = max([*values, 1.0])
    n = max(len(values), 1)
    bw = (W - 2 * PAD) / n
    fills = list(colours) if colours else [BAR_COLOUR] * n
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>',
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = (H - 2 * PAD) * v / top
        if v > 0:
            h = max(h, MIN_BAR)
        cx = PAD + (i + 0.5) * bw
        parts.append(
            f'<rect x="{PAD + i * bw + 1:.1f}" y="{H - PAD - h:.1f}" width="{bw - 2:.1f}"'
            f' height="{h:.1f}" fill="{fills[i % len(fills)]}"><title>{escape(label)}: {v:g}'
            f" {escape(unit)}</title></rect>"
        )
        if n <= 14 or i % max(2, n // 12) == 0:
            parts.append(
                f'<text class="value" x="{cx:.1f}" y="{H - PAD - h - 4:.1f}" font-size="11"'
                f' font-weight="600" text-anchor="middle" fill="#1d1d1f">{v:g}</text>'
            )
        if n <= 6 or i % max(2, n // 6) == 0:
            parts.append(
                f'<text x="{cx:.1f}" y="{H - 8}" font-size="10"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(f'<text x="4" y="{PAD - 12}" font-size="10">{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
