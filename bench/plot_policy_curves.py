"""Draw the curves written by bench_policy_curves.py (--json) as one PNG: per fleet, days out
of tolerance per device-year against visits per device-year, the cheapest front of each policy
family, the forecaster's settings chosen for the budgets ringed.

Run: .venv/bin/python bench/plot_policy_curves.py CURVES.json OUT.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

STYLE = {
    "fixed interval": ("#1f77b4", "o", "fixed interval (1-24 months)"),
    "usage interval": ("#ff7f0e", "s", "every N cycles"),
    "earlier of both": ("#2ca02c", "^", "months or cycles, earlier"),
    "forecaster": ("#b3261e", "D", "forecaster"),
}


def _front(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in sorted(points, key=lambda q: (q["visits"], q["out_of_tolerance_days"])):
        if not out or p["out_of_tolerance_days"] < out[-1]["out_of_tolerance_days"]:
            out.append(p)
    return out


def plot(curves: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fleets = curves["fleets"]
    fig, axes = plt.subplots(1, len(fleets), figsize=(6.2 * len(fleets), 4.6), squeeze=False)
    for ax, (name, data) in zip(axes[0], fleets.items(), strict=True):
        for family, (colour, marker, label) in STYLE.items():
            pool = data["forecaster"] if family == "forecaster" else data["simple"]
            pts = _front([p for p in pool if p["family"] == family])
            ax.plot(
                [p["visits"] for p in pts],
                [p["out_of_tolerance_days"] for p in pts],
                marker=marker,
                color=colour,
                label=label,
                markersize=4,
                linewidth=1.5,
            )
        chosen = {c for c in data["chosen"].values() if c}
        ring = [p for p in data["forecaster"] if p["policy"] in chosen]
        ax.scatter(
            [p["visits"] for p in ring],
            [p["out_of_tolerance_days"] for p in ring],
            s=120,
            facecolors="none",
            edgecolors="#b3261e",
            linewidths=1.5,
            label="forecaster at budget 1 / 2 / 4",
            zorder=5,
        )
        for b in (1, 2, 4):
            ax.axvline(b, color="#999", linewidth=0.7, linestyle=":")
        ax.set_xscale("log")
        ax.set_xlim(0.3, 12)
        ax.set_xticks([0.5, 1, 2, 4, 8])
        ax.set_xticklabels(["0.5", "1", "2", "4", "8"])
        ax.set_ylim(bottom=-2)
        ax.set_title(
            f"{name} fleet ({curves['devices']} pipettes x seeds {curves['scored_seeds']})"
        )
        ax.set_xlabel(
            "visits per device-year (calibration = 1, quick check = "
            f"{curves['costs']['quick_check'] / curves['costs']['calibration']:g})"
        )
        ax.set_ylabel("days out of tolerance per device-year")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    plot(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
