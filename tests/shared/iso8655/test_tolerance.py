"""Tolerance tables as versioned data: the file format's validation (clear errors saying where),
limits per nominal AND test volume, the built-in 2002 table through the same interface."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from labcal_shared.errors import MeasurementInputError, UnknownEditionError
from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    GravimetricRun,
    Mpe,
    PipetteSpec,
    TestSeries,
    evaluate_run,
    mpe_for,
)
from labcal_shared.iso8655.tolerance import (
    ToleranceTableError,
    builtin_table,
    parse_tolerance_table,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "docs/examples/tolerance_table_process.json"


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def test_the_documented_example_loads_with_limits_per_test_volume() -> None:
    table = parse_tolerance_table(_data())
    assert table.label == "Acme Lab assay tolerance P100 (2026-01)"
    assert table.kind == "process"
    assert table.limits(100, 100) == Mpe(0.5, 0.2)
    assert table.limits(100, 50) == Mpe(0.5, pytest.approx(0.2))  # 1 % and 0.4 % of 50 µL
    assert table.limits(100, 10) == Mpe(0.25, 0.1)  # not the nominal's limits at 10 %
    assert table.limits(100, 30, channels=8) == Mpe(1.0, 0.4)  # a row for every test volume


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.limits(100, 30), "no limits at 30 µL for a 100 µL pipette"),
        (lambda t: t.limits(200, 100), "nominal volume 200 µL is not in tolerance table"),
        (lambda t: t.limits(100, 100, kind="positive_displacement"), "no rows for type D"),
    ],
)
def test_what_the_table_has_no_row_for_is_refused(call: Any, message: str) -> None:
    table = parse_tolerance_table(_data())
    with pytest.raises(MeasurementInputError, match=message):
        call(table)


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(_data())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="v0"), "'format' must be 'labcal-tolerance-table/1'"),
        (lambda d: d.pop("version"), "table: 'version' must be a non-empty text"),
        (lambda d: d.update(kind="guess"), "'kind' must be one of standard, manufacturer"),
        (lambda d: d.update(rows=[]), "'rows' must be a non-empty list"),
        (lambda d: d["rows"][1].update(type="B"), "row 2: 'type' must be 'A' or 'D'"),
        (lambda d: d["rows"][0].update(systematic_ul=-1), "row 1: 'systematic_ul' must be"),
        (lambda d: d["rows"][0].update(random_pct=0.3), "row 1: give exactly one of 'random_ul'"),
        (lambda d: d["rows"][3].update(random_pct=0.3), "row 4: give exactly one"),
        (lambda d: d["rows"][2].update(test_volume_ul=150), "row 3: test volume 150 µL exceeds"),
        (lambda d: d["rows"][2].update(colour="red"), "row 3: unknown field(s) colour"),
        (lambda d: d["rows"].append(dict(d["rows"][0])), "row 5: repeats row 1"),
        (lambda d: d["rows"][0].update(nominal_ul="100"), "row 1: 'nominal_ul' must be a number"),
    ],
)
def test_a_bad_file_is_refused_saying_where_and_why(change: Any, message: str) -> None:
    with pytest.raises(ToleranceTableError, match=re.escape(message)):
        parse_tolerance_table(_broken(change))


def test_percent_needs_a_test_volume() -> None:
    def change(d: dict[str, Any]) -> None:
        d["rows"][3] = {"type": "A", "channels": "multi", "nominal_ul": 100,
                        "systematic_pct": 1, "random_ul": 0.4}  # fmt: skip

    with pytest.raises(
        ToleranceTableError, match=r"row 4: 'systematic_pct'.*needs 'test_volume_ul'"
    ):
        parse_tolerance_table(_broken(change))


def test_the_builtin_2002_table_gives_what_mpe_for_gives_at_every_test_volume() -> None:
    table = builtin_table("ISO 8655-2:2002")
    assert table.label == "ISO 8655-2:2002 (built in)"
    for nominal in (1, 10, 100, 1000, 10000):
        for share in (1.0, 0.5, 0.1):
            for channels in (1, 8):
                assert table.limits(nominal, nominal * share, channels) == mpe_for(
                    nominal, channels, test_volume_ul=nominal * share
                )
    with pytest.raises(UnknownEditionError, match="ISO 8655-2:2022"):
        builtin_table("ISO 8655-2:2022")


def test_mpe_for_takes_the_test_volume_and_refuses_one_beyond_nominal() -> None:
    assert mpe_for(1000, test_volume_ul=100) == mpe_for(1000)  # 2002: the nominal's µL limits
    with pytest.raises(MeasurementInputError, match="test volume 2000 µL"):
        mpe_for(1000, test_volume_ul=2000)


def test_a_run_is_judged_by_the_table_per_test_volume() -> None:
    masses = [10.05 / 1.0029] * 5 + [10.25 / 1.0029] * 5  # mean 10.15 µL, e = +0.15 µL
    run = GravimetricRun(
        PipetteSpec(100.0),
        BalanceSpec(0.001),
        Environment.single(20.0, 101.3),
        (TestSeries(10.0, masses),),
    )
    builtin = evaluate_run(run).volumes[0]
    assert (builtin.mpe, builtin.systematic_passed) == (Mpe(0.8, 0.3), True)
    table = parse_tolerance_table(_data())
    judged = evaluate_run(run, tolerance=table)
    assert judged.edition == table.label
    assert judged.volumes[0].mpe == Mpe(0.25, 0.1)
    assert judged.volumes[0].random_passed is False  # s = 0.105 µL > 0.1 µL
