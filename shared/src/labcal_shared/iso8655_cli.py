"""``labcal-iso8655``: judge a gravimetric run, print a Z factor or an MPE from the command line.

    labcal-iso8655 evaluate RUN.json [--json]     # a run message (envelope) or a bare run payload
    labcal-iso8655 z --water-temp 20 --pressure 101.3 [--humidity 50] [--air-temp 20.5]
    labcal-iso8655 mpe --nominal 1000 [--channels 8] [--edition "ISO 8655-2:2002"]

Exit status: 0 pass, 1 fail (evaluate), 2 bad input (a clear message on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from labcal_shared.contracts import Envelope, GravimetricRun, format_validation_error
from labcal_shared.errors import LabCalError
from labcal_shared.iso8655 import (
    DEFAULT_EDITION,
    RunResult,
    evaluate_contract_run,
    mpe_for,
    z_factor,
)

__all__ = ["main", "render_result"]


def load_run(path: Path) -> GravimetricRun:
    """Read a run from a JSON file holding either a whole envelope or just its payload."""
    try:
        obj: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LabCalError(f"cannot read {path}: {exc}") from None
    try:
        if isinstance(obj, dict) and "payload" in obj:
            payload = Envelope.model_validate(obj).payload
            if not isinstance(payload, GravimetricRun):
                raise LabCalError(f"{path} holds a {payload.type} message, not a gravimetric run")
            return payload
        return GravimetricRun.model_validate(obj)
    except ValidationError as exc:
        raise LabCalError(f"{path}: {format_validation_error(exc)}") from None


def render_result(run: GravimetricRun, result: RunResult) -> str:
    """A person-readable protocol of the result."""
    lines = [
        f"pipette  {run.pipette.make} {run.pipette.model} s/n {run.pipette.serial}, "
        f"{run.nominal_volume_ul:g} µL, {run.channels} channel(s)",
        f"balance  {run.balance.make} {run.balance.model} s/n {run.balance.serial}, "
        f"d = {run.balance_readability_mg:g} mg",
        f"edition  {result.edition}    Z = {result.z_factor:.6f} µL/mg",
        "",
        f"{'V_s µL':>9} {'n':>3} {'mean µL':>11} {'e_s µL':>9} {'e_s %':>7} {'MPE µL':>7} "
        f"{'s µL':>8} {'CV %':>6} {'MPE s':>6} {'U(k=2)':>8}  result",
    ]
    for v in result.volumes:
        lines.append(
            f"{v.volume_ul:9g} {v.replicates:3d} {v.mean_volume_ul:11.4f} "
            f"{v.systematic_error_ul:+9.4f} {v.systematic_error_pct:+7.3f} "
            f"{v.mpe.systematic_ul:7g} {v.random_error_ul:8.4f} {v.cv_pct:6.3f} "
            f"{v.mpe.random_ul:6g} {v.uncertainty.expanded_ul:8.4f}  "
            f"{'pass' if v.passed else 'FAIL'}"
        )
    lines.append("")
    for f in result.findings:
        lines.append(f"{f.severity.value:7}  {f.message}")
    verdict = "PASS" if result.passed else "FAIL"
    claim = "conformity can be claimed" if result.conformity_claimable else "no conformity claim"
    lines.append(f"result   {verdict} ({claim})")
    return "\n".join(lines)


def _evaluate(args: argparse.Namespace) -> int:
    run = load_run(args.file)
    result = evaluate_contract_run(run)
    if args.json:
        print(json.dumps(_result_dict(result), indent=2))
    else:
        print(render_result(run, result))
    return 0 if result.passed else 1


def _result_dict(result: RunResult) -> dict[str, Any]:
    return {
        "edition": result.edition,
        "z_factor": result.z_factor,
        "passed": result.passed,
        "conformity_claimable": result.conformity_claimable,
        "volumes": [
            {
                "volume_ul": v.volume_ul,
                "replicates": v.replicates,
                "mean_volume_ul": v.mean_volume_ul,
                "systematic_error_ul": v.systematic_error_ul,
                "systematic_error_pct": v.systematic_error_pct,
                "random_error_ul": v.random_error_ul,
                "cv_pct": v.cv_pct,
                "mpe_systematic_ul": v.mpe.systematic_ul,
                "mpe_random_ul": v.mpe.random_ul,
                "expanded_uncertainty_ul": v.uncertainty.expanded_ul,
                "passed": v.passed,
            }
            for v in result.volumes
        ],
        "findings": [
            {"code": f.code.value, "severity": f.severity.value, "message": f.message}
            for f in result.findings
        ],
    }


def _z(args: argparse.Namespace) -> int:
    z = z_factor(args.water_temp, args.pressure, args.humidity, args.air_temp)
    print(f"{z:.6f}")
    return 0


def _mpe(args: argparse.Namespace) -> int:
    mpe = mpe_for(args.nominal, args.channels, "air_displacement", args.edition)
    print(f"systematic ±{mpe.systematic_ul:g} µL, random {mpe.random_ul:g} µL ({args.edition})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labcal-iso8655", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="judge a gravimetric run JSON file")
    ev.add_argument("file", type=Path)
    ev.add_argument("--json", action="store_true", help="print the result as JSON")
    ev.set_defaults(func=_evaluate)
    zp = sub.add_parser("z", help="print the Z factor in µL/mg")
    zp.add_argument("--water-temp", type=float, required=True, help="°C")
    zp.add_argument("--pressure", type=float, required=True, help="kPa")
    zp.add_argument("--humidity", type=float, default=50.0, help="%% RH (default 50)")
    zp.add_argument("--air-temp", type=float, default=None, help="°C (default: water temp)")
    zp.set_defaults(func=_z)
    mp = sub.add_parser("mpe", help="print the maximum permissible errors")
    mp.add_argument("--nominal", type=float, required=True, help="nominal volume, µL")
    mp.add_argument("--channels", type=int, default=1)
    mp.add_argument("--edition", default=DEFAULT_EDITION)
    mp.set_defaults(func=_mpe)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except LabCalError as exc:
        print(f"labcal-iso8655: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
