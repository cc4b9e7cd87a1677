"""Scripted gravimetric runs against the simulated station (real ptys, the real CLI entry)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcal_edge.cli import main
from labcal_edge.outbox import Outbox
from labcal_shared.contracts import GravimetricRun, Reading, RunMode, decode
from labcal_shared.iso8655 import evaluate_contract_run

from .agent_config import agent_toml
from .sim import server, sim_station
from .subscriber import Collector

SYSTEMATIC_PCT = 1.5
STATION = f"""
[balance]
protocol = "{{protocol}}"
readability = "0.01mg"
serial = "B-GRAV"
settle_s = 0.05
[[pipettes]]
serial = "P-GRAV"
nominal_ul = 1000
min_ul = 100
systematic_pct = {SYSTEMATIC_PCT}
cv_pct = 0.2
[sensor]
serial = "ENV-1"
"""


def stored(tmp_path: Path) -> list:  # type: ignore[type-arg]
    box = Outbox(tmp_path / "data" / "outbox.sqlite3")
    try:
        return [decode(m.payload, topic=m.topic) for m in box.peek(-1, 10**6)]
    finally:
        box.close()


def run_cli(  # type: ignore[no-untyped-def]
    tmp_path: Path,
    tenant: str,
    config_extra: str,
    script: str,
    *extra: str,
    protocol: str = "mt-sics",
    mqtt_url: str = "mqtt://127.0.0.1:9",
):
    with sim_station(STATION.format(protocol=protocol), tmp_path / "dev") as station:
        config = agent_toml(
            tmp_path,
            tenant,
            # default: an unreachable broker; the run must complete and stay queued in the outbox
            mqtt_url,
            balance=server(station, "balance").address,
            pipettes=(server(station, "pipette").address,),
            sensor=server(station, "sensor").address,
            extra=config_extra,
        )
        path = tmp_path / "script.toml"
        path.write_text(script)
        code = main(["gravimetric", "--config", str(config), "--script", str(path), *extra])
        assert code in (0, 1)  # passed or failed, never a configuration error
        assert station.bench is not None
        truth = list(station.bench.truth)
    return code, truth


@pytest.mark.slow
def test_scripted_calibration_finds_the_pipettes_known_error(
    tmp_path: Path, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    script = 'operator = "A. Tester"\ndeliver = "pipette"\nvolumes_ul = [1000, 500]\n'
    code, truth = run_cli(tmp_path, tenant_id, "", script)
    out = capsys.readouterr().out
    messages = stored(tmp_path)
    runs = [m.payload for m in messages if isinstance(m.payload, GravimetricRun)]
    assert len(runs) == 1
    run = runs[0]
    assert run.mode is RunMode.CALIBRATION
    assert run.pipette.serial == "P-GRAV"
    assert run.operator == "A. Tester"
    assert [len(tv.masses_mg) for tv in run.test_volumes] == [10, 10]
    readings = [m for m in messages if isinstance(m.payload, Reading)]
    assert all(m.payload.run_id == run.run_id for m in readings)
    assert len(readings) == 2 * (4 + 11)  # evaporation weighings, start, 10 replicates
    result = evaluate_contract_run(run)
    for vr in result.volumes:
        delivered = [t.delivered_ul for t in truth if t.set_ul == vr.volume_ul]
        assert len(delivered) == 10
        true_pct = (sum(delivered) / len(delivered) / vr.volume_ul - 1) * 100
        assert true_pct == pytest.approx(SYSTEMATIC_PCT, abs=0.3)  # the pipette's known error
        # measured through balance, Z factor and evaporation: within the balance's noise
        assert vr.systematic_error_pct == pytest.approx(true_pct, abs=0.01)
    assert "Overall:" in out
    assert "replicate 10/10" in out
    assert code == (0 if result.passed else 1)


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["mt-sics", "sbi", "and"])
def test_quick_check_is_marked_and_uses_four_replicates(
    tmp_path: Path, tenant_id: str, capsys: pytest.CaptureFixture[str], protocol: str
) -> None:
    script = 'operator = "Q"\ndeliver = "pipette"\n'
    code, truth = run_cli(tmp_path, tenant_id, "", script, "--quick", protocol=protocol)
    runs = [m.payload for m in stored(tmp_path) if isinstance(m.payload, GravimetricRun)]
    assert len(runs) == 1
    assert runs[0].mode is RunMode.QUICK_CHECK
    assert [tv.volume_ul for tv in runs[0].test_volumes] == [1000, 100]
    assert [len(tv.masses_mg) for tv in runs[0].test_volumes] == [4, 4]
    assert "Quick check" in capsys.readouterr().out
    assert code in (0, 1)
    result = evaluate_contract_run(runs[0])
    for vr in result.volumes:  # every balance dialect measures the same truth
        delivered = [t.delivered_ul for t in truth if t.set_ul == vr.volume_ul]
        true_pct = (sum(delivered) / len(delivered) / vr.volume_ul - 1) * 100
        assert vr.systematic_error_pct == pytest.approx(true_pct, abs=0.05)


@pytest.mark.slow
def test_outlier_is_repeated_only_when_the_operator_confirms(
    tmp_path: Path, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the pipette delivers +1.5 %: with a 1 % outlier limit every replicate is flagged;
    # the operator repeats the first one, then keeps the rest
    script = (
        'operator = "O"\ndeliver = "pipette"\nvolumes_ul = [1000]\nreplicates = 3\n'
        "repeat_outlier = [true, false]\n"
    )
    _, truth = run_cli(tmp_path, tenant_id, "[gravimetric]\noutlier_limit_pct = 1.0\n", script)
    out = capsys.readouterr().out
    runs = [m.payload for m in stored(tmp_path) if isinstance(m.payload, GravimetricRun)]
    assert len(runs[0].test_volumes[0].masses_mg) == 3
    assert len(truth) == 4  # one replicate delivered twice
    assert out.count("Repeat this replicate?: yes") == 1
    assert out.count("Repeat this replicate?: no") == 3


@pytest.mark.slow
def test_run_and_its_readings_reach_the_broker(
    tmp_path: Path, tenant_id: str, mqtt_url: str
) -> None:
    collector = Collector(mqtt_url, tenant_id).start()
    try:
        script = 'operator = "O"\ndeliver = "pipette"\nvolumes_ul = [500]\nreplicates = 2\n'
        extra = "[gravimetric]\ndelivery_wait_s = 10\n"
        run_cli(tmp_path, tenant_id, extra, script, mqtt_url=mqtt_url)
        assert stored(tmp_path) == []  # all delivered, nothing left behind
        got = collector.wait_for(lambda m: any(isinstance(e.payload, GravimetricRun) for e in m))
    finally:
        collector.stop()
    runs = [e.payload for e in got if isinstance(e.payload, GravimetricRun)]
    assert len(runs) == 1
    readings = [e for e in got if isinstance(e.payload, Reading)]
    assert len({e.message_id for e in readings}) == 4 + 3  # evaporation, start, 2 replicates
    assert all(e.payload.run_id == runs[0].run_id for e in readings)  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_multichannel_pipette_is_weighed_channel_by_channel(
    tmp_path: Path, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulated 8-channel pipette says it has 8 channels: every channel of every volume
    is weighed and sent, with the tip and the instruments the script names."""
    station = STATION.replace("cv_pct = 0.2\n", "cv_pct = 0.2\nchannels = 8\n")
    script = (
        'operator = "M"\ndeliver = "pipette"\nvolumes_ul = [1000]\nreplicates = 2\n'
        'tip = {make = "Acme", model = "T-1000", lot = "L7"}\n'
        '[[instruments]]\nrole = "thermometer"\nmake = "Testo"\nmodel = "735"\n'
        'serial = "TH-9"\ncertificate = "TC-5521"\n'
    )
    with sim_station(station.format(protocol="mt-sics"), tmp_path / "dev") as sim:
        config = agent_toml(
            tmp_path,
            tenant_id,
            "mqtt://127.0.0.1:9",
            balance=server(sim, "balance").address,
            pipettes=(server(sim, "pipette").address,),
            sensor=server(sim, "sensor").address,
        )
        path = tmp_path / "script.toml"
        path.write_text(script)
        assert main(["gravimetric", "--config", str(config), "--script", str(path)]) in (0, 1)
    [run] = [m.payload for m in stored(tmp_path) if isinstance(m.payload, GravimetricRun)]
    assert run.channels == 8
    assert [(tv.volume_ul, tv.channel) for tv in run.test_volumes] == [
        (1000, ch) for ch in range(1, 9)
    ]
    assert all(len(tv.masses_mg) == 2 for tv in run.test_volumes)
    assert run.tip is not None
    assert (run.tip.model, run.tip.lot) == ("T-1000", "L7")
    assert [(i.role.value, i.certificate) for i in run.instruments] == [("thermometer", "TC-5521")]
    assert len(evaluate_contract_run(run).volumes) == 8
    assert "channel 8 of 8" in capsys.readouterr().out


def test_bad_traceability_settings_stop_the_run_before_weighing(tmp_path: Path) -> None:
    from labcal_edge.errors import RunAbortedError
    from labcal_edge.gravimetric import GravimetricWorkflow, StationIO
    from labcal_edge.operator_io import ScriptedOperator
    from labcal_shared.contracts import DeviceRef

    op = ScriptedOperator({"instruments": [{"role": "scale", "make": "x"}]})
    flow = GravimetricWorkflow(None, op, None)  # type: ignore[arg-type]
    with pytest.raises(RunAbortedError, match="instruments"):
        flow.traceability()
    balance = {"role": "balance", "make": "M", "model": "X", "serial": "OTHER"}
    io = StationIO(
        balance=None, balance_ref=DeviceRef(type="balance", make="M", model="X", serial="B-1")
    )  # type: ignore[arg-type]
    op = ScriptedOperator({"instruments": [balance]})
    with pytest.raises(RunAbortedError, match="'OTHER' is not this station's balance 'B-1'"):
        GravimetricWorkflow(io, op, None).traceability()  # type: ignore[arg-type]
