"""The expanded uncertainty on the certificate, recomputed here for 1, 100 and 1000 µL: the GUM
budget written out again from the reference's formulas, k = t_95.45(⌊ν_eff⌋) from an independent
t quantile (Simpson-integrated density), U = k·u_c — and found in the certificate's text
(pdftotext, poppler-utils). The printed replicates are the corrected volumes ((m + e)·Z)."""

from __future__ import annotations

import math
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .helpers import World, api_token, client_for

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")

T_W, P_KPA, RH = 20.0, 101.3, 55.0
SPREAD = (-0.45, 0.2, 0.05, -0.15, 0.3, -0.25, 0.0, 0.15, -0.1, 0.25)  # % of the volume
EVAP_MG = 0.004  # per cycle, measured
TABLE_U_MG = {1.0: 0.002, 100.0: 0.02, 1000.0: 0.2}  # ISO 8655-6:2002 requirement table
CASES = [  # (nominal, test volumes, readability mg, volume whose U is checked)
    (10.0, (10.0, 5.0, 1.0), 0.001, 1.0),
    (100.0, (100.0, 50.0, 10.0), 0.01, 100.0),
    (1000.0, (1000.0, 500.0, 100.0), 0.01, 1000.0),
]


def independent_z(t: float, p_kpa: float, rh: float, t_air: float | None = None) -> float:
    """Z from reference §3.1 (TR 20461 water, OIML air, 8000 kg/m³ weights), written out here."""
    ta = t if t_air is None else t_air
    rho_w = 999.85308 + 6.32693e-2 * t - 8.523829e-3 * t**2 + 6.943248e-5 * t**3
    rho_w -= 3.821216e-7 * t**4
    rho_a = (3.4848 * p_kpa - 0.009 * rh * math.exp(0.061 * ta)) / (273.15 + ta)
    return 1000.0 * (1.0 - rho_a / 8000.0) / (rho_w - rho_a)


def reference_k(nu_eff: float, p: float = 0.9545) -> float:
    """t_p(⌊ν_eff⌋) by bisection on the t density integrated with Simpson's rule."""
    nu = max(1, math.floor(nu_eff))
    c = math.exp(math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)) / math.sqrt(nu * math.pi)

    def coverage(t: float, steps: int = 2000) -> float:
        f = [c * (1 + (i * t / steps) ** 2 / nu) ** (-(nu + 1) / 2) for i in range(steps + 1)]
        inner = sum((4 if i % 2 else 2) * f[i] for i in range(1, steps))
        return 2 * (f[0] + f[-1] + inner) * (t / steps) / 3

    lo, hi = 0.0, 50.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if coverage(mid) < p else (lo, mid)
    return (lo + hi) / 2


def _masses(volume: float) -> list[float]:
    return [round(volume * (1 + d / 100) / 1.0029 - EVAP_MG, 5) for d in SPREAD]


def _run(serial: str, nominal: float, volumes: tuple[float, ...], d: float) -> dict[str, Any]:
    end = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    sample = {"air_temp_c": T_W, "water_temp_c": T_W, "pressure_kpa": P_KPA, "humidity_pct": RH}
    return {
        "run_id": str(uuid.uuid4()),
        "mode": "calibration",
        "pipette": {"type": "pipette", "make": "Acme", "model": "PX", "serial": serial},
        "nominal_volume_ul": nominal,
        "balance": {"type": "balance", "make": "Mettler", "model": "XPR", "serial": "B-1"},
        "balance_readability_mg": d,
        "environment": [sample, sample],
        "test_volumes": [
            {"volume_ul": v, "masses_mg": _masses(v), "evaporation_per_cycle_mg": EVAP_MG}
            for v in volumes
        ],
        "operator": "Tara Technician",
        "started_at": (end - timedelta(minutes=40)).isoformat(),
        "ended_at": end.isoformat(),
    }


def _expected(volume: float, d: float) -> tuple[float, float, list[float]]:
    """(U, k, corrected replicate volumes) from the reference's formulas, written out here."""
    z = independent_z(T_W, P_KPA, RH)
    vols = [(m + EVAP_MG) * z for m in _masses(volume)]
    n = len(vols)
    mean = sum(vols) / n
    s = math.sqrt(sum((v - mean) ** 2 for v in vols) / (n - 1))
    mass = mean / z
    h = 1e-3
    dz_dt = (independent_z(T_W + h, P_KPA, RH, T_W) - independent_z(T_W - h, P_KPA, RH, T_W)) / (
        2 * h
    )
    dz_dp = (independent_z(T_W, P_KPA + h, RH) - independent_z(T_W, P_KPA - h, RH)) / (2 * h)
    dz_dh = (independent_z(T_W, P_KPA, RH + h) - independent_z(T_W, P_KPA, RH - h)) / (2 * h)
    repeatability = s / math.sqrt(n)
    type_b = [
        z * math.sqrt(d**2 / 12 + TABLE_U_MG[volume] ** 2),  # balance
        abs(dz_dt) * 0.2 * mass,  # water temperature, u = 0.2 °C
        abs(dz_dp) * 0.3 * mass,  # pressure, u = 0.3 kPa
        abs(dz_dh) * 10.0 * mass,  # humidity, u = 10 % RH
        z * EVAP_MG / (2 * math.sqrt(3)),  # evaporation measured: half the correction
        0.0002 * volume,  # handling, the assumed 0.02 %
    ]
    uc = math.sqrt(repeatability**2 + sum(u**2 for u in type_b))
    nu_eff = uc**4 / (repeatability**4 / (n - 1))  # only the repeatability has finite ν
    k = reference_k(nu_eff)
    return k * uc, k, vols


def _pdf_text(world: World, calibration_id: str) -> str:
    r = client_for(world).get(
        f"/api/v1/calibrations/{calibration_id}/certificate.pdf",
        headers=api_token(world, world.a.user),
    )
    assert r.status_code == 200
    done = subprocess.run(["pdftotext", "-", "-"], input=r.content, capture_output=True, check=True)
    return done.stdout.decode()


@pytest.mark.parametrize(("nominal", "volumes", "d", "checked"), CASES)
def test_u_with_k_from_nu_eff_is_on_the_certificate(
    world: World, nominal: float, volumes: tuple[float, ...], d: float, checked: float
) -> None:
    client = client_for(world)
    serial = f"U-{nominal:g}"
    r = client.post(
        "/api/v1/devices",
        json={
            "site_id": world.a.site.id,
            "serial": serial,
            "make": "Acme",
            "model": "PX",
            "nominal_volume_ul": nominal,
        },
        headers=api_token(world, world.a.admin),
    )
    assert r.status_code == 201, r.text
    body = {
        "device_id": r.json()["id"],
        "run": _run(serial, nominal, volumes, d),
        "balance_traceability": "DAkkS D-K-12345 certificate 2025-117",
        "balance_valid_until": "2027-01-01T00:00:00+00:00",
    }
    r = client.post("/api/v1/calibrations", json=body, headers=api_token(world, world.planner))
    assert r.status_code == 201, r.text
    text = _pdf_text(world, r.json()["id"])
    u, k, replicates = _expected(checked, d)
    assert k > 2.0  # repeatability dominates at least partly: a fixed k = 2 would understate U
    results = text.split("Results", 1)[1].split("Replicate volumes", 1)[0]
    assert f"{u:.4f}" in results  # the results table's U µL column
    assert f"{k:.2f}" in results  # and its k column
    budget = text.split("Uncertainty budget (GUM)", 1)[1]
    cells = budget.split("\nU\n", 1)[1].split("balance:", 1)[0].split()
    rows = [cells[i : i + 13] for i in range(0, 13 * len(volumes), 13)]
    [row] = [r for r in rows if float(r[0]) == checked]
    got_k, got_u = float(row[11]), float(row[12])  # µL, ch, 7 components, u_c, ν_eff, k, U
    assert got_u == pytest.approx(u, abs=6e-5)
    assert got_k == pytest.approx(k, abs=6e-3)
    # the replicates are printed corrected for evaporation: (m + e)·Z, not m·Z
    listed = text.split("Replicates (µL)", 1)[1].split("Uncertainty of measurement", 1)[0]
    lines = [x for x in listed.splitlines() if x.count(",") == len(replicates) - 1]
    # the lines follow the table's order: by volume ascending
    shown = [float(x) for x in lines[sorted(volumes).index(checked)].split(",")]
    assert shown == pytest.approx([round(v, 3) for v in replicates], abs=1.5e-3)
