"""The uncertainty budget on the certificate: one row per test volume and channel, a column per
component (standard uncertainties in µL), u_c, ν_eff, k and U; then what each component is (the
budget's own descriptions, so assumptions such as an unmeasured evaporation are stated).

:func:`budget_table` is pure (from the engine's record); :func:`render_budget` draws it with fpdf2.
Records stored before budgets were kept have none: nothing is drawn for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF

from labcal_cloud.engine.records import CalibrationRecord

__all__ = ["BudgetTable", "budget_table", "render_budget"]

_SHORT = {
    "balance": "balance",
    "repeatability": "repeat.",
    "temperature": "temp.",
    "pressure": "press.",
    "humidity": "humid.",
    "evaporation": "evap.",
    "handling": "handling",
}


@dataclass(frozen=True, slots=True)
class BudgetTable:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...]  # "name: description" per distinct description
    coverage_probability: float


def _dof(value: float | None) -> str:
    return "inf" if value is None else f"{value:.1f}"


def budget_table(record: CalibrationRecord) -> BudgetTable | None:
    volumes = [v for v in record.volumes if v.budget]
    if not volumes:
        return None
    names = [line.name for line in volumes[0].budget]
    header = (
        "µL",
        "ch",
        *(_SHORT.get(n, n) for n in names),
        "u_c",
        "ν_eff",
        "k",
        "U",
    )
    rows = []
    notes: dict[str, None] = {}
    for v in volumes:
        u = {line.name: line for line in v.budget}
        rows.append(
            (
                f"{v.volume_ul:g}",
                str(v.channel),
                *(f"{u[n].standard_uncertainty_ul:.5f}" if n in u else "-" for n in names),
                f"{v.combined_uncertainty_ul:.5f}",
                _dof(v.effective_dof),
                f"{v.coverage_factor:.2f}",
                f"{v.expanded_uncertainty_ul:.4f}",
            )
        )
        for line in v.budget:
            dof = "" if line.degrees_of_freedom is None else f" (ν = {line.degrees_of_freedom:g})"
            notes[f"{line.name}: {line.description}{dof}"] = None
    return BudgetTable(header, tuple(rows), tuple(notes), volumes[0].coverage_probability)


_ASCII = str.maketrans({"√": "sqrt", "∂": "d", "ν": "nu", "≤": "<=", "−": "-", "∞": "inf"})


def _t(text: object) -> str:
    """Core PDF fonts speak Latin-1 only: spell out the budget's mathematical signs."""
    return str(text).translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


def render_budget(pdf: FPDF, table: BudgetTable | None) -> None:
    """The budget under its own heading (nothing for a record without a budget)."""
    if table is None:
        return
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, _t("Uncertainty budget (GUM)"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=7)
    p = 100 * table.coverage_probability
    pdf.multi_cell(
        0,
        3.5,
        _t(
            "Standard uncertainties of the mean volume in µL; u_c combined; ν_eff effective "
            f"degrees of freedom (Welch-Satterthwaite); U = k·u_c with k = t({p:.2f} %, ν_eff) "
            "(coverage probability about 95 %)."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    width = pdf.epw
    first = 12.0  # the volume and channel columns
    other = (width - 2 * first) / (len(table.header) - 2)
    widths = (first, first, *([other] * (len(table.header) - 2)))
    with pdf.table(
        col_widths=widths,
        text_align="RIGHT",
        line_height=3.6,
        first_row_as_headings=True,
        width=width,
    ) as t:
        for row in (table.header, *table.rows):
            cells = t.row()
            for value in row:
                cells.cell(_t(value))
    pdf.ln(1)
    for note in table.notes:
        pdf.multi_cell(0, 3.2, _t(note), new_x="LMARGIN", new_y="NEXT")
