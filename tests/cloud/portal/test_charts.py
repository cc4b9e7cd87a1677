"""The server-rendered SVG charts: values on the bars, small bars still visible, MPE lines."""

from __future__ import annotations

import re

from labcal_cloud.reports.svg_charts import MIN_BAR, MPE_COLOUR, bar_chart, line_chart


def _bars(svg: str) -> list[float]:
    return [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]


def test_bars_carry_their_values_and_a_small_bar_stays_visible() -> None:
    svg = bar_chart(
        "Devices", ["Overdue", "OK", "Unknown"], [2, 400, 0], "devices", ["#b00", "#0a0", "#555"]
    )
    assert re.findall(r'<text class="value"[^>]*>([^<]+)</text>', svg) == ["2", "400", "0"]
    heights = _bars(svg)
    assert heights[0] >= MIN_BAR  # 2 of 400 would be 0.7 px
    assert heights[1] > 100
    assert heights[2] == 0
    assert 'fill="#b00"' in svg
    assert 'fill="#0a0"' in svg


def test_error_chart_draws_the_mpe_as_lines_on_both_sides() -> None:
    svg = line_chart(
        "es", ["2025", "2026"], [("es", [0.2, -0.4], "#0b5cad")], band=[0.8, 0.8], unit="%"
    )
    lines = re.findall(r'<polyline class="mpe" points="([^"]+)"[^>]*stroke="([^"]+)"', svg)
    assert len(lines) == 2
    assert all(colour == MPE_COLOUR for _, colour in lines)
    upper, lower = (float(pts.split()[0].split(",")[1]) for pts, _ in lines)
    assert upper < lower  # +MPE above −MPE (SVG y grows downwards)
    assert "+MPE 0.8%" in svg


def test_one_calibration_still_gets_mpe_lines_across() -> None:
    svg = line_chart("es", ["2026"], [("es", [0.2], "#0b5cad")], band=[0.8], unit="%")
    (first, _), _ = re.findall(r'<polyline class="mpe" points="([^"]+)"[^>]*stroke="([^"]+)"', svg)
    assert len(first.split()) == 2
