"""The guided run as an operator sees it: `labcal-edge gravimetric` at a terminal (stdin/stdout of
a real subprocess), against the simulated station; and a balance that never settles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from labcal_edge.cli import main
from labcal_shared.contracts import GravimetricRun
from labcal_shared.iso8655 import evaluate_contract_run

from .agent_config import agent_toml
from .sim import server, sim_station
from .test_gravimetric import stored

STATION = """
[balance]
protocol = "mt-sics"
settle_s = 0.05
[[pipettes]]
serial = "P-T"
nominal_ul = 1000
min_ul = 100
[sensor]
"""


class Terminal:
    """Reads the program's output as it comes; answers prompts."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        assert proc.stdin is not None
        self.proc = proc
        os.set_blocking(proc.stdout.fileno(), False)
        self.screen = ""
        self._seen = 0

    def expect(self, text: str, timeout: float = 20.0) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while text not in self.screen[self._seen :]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never shown; screen:\n{self.screen}")
            chunk = self.proc.stdout.read()
            if chunk:
                self.screen += chunk.decode()
            else:
                time.sleep(0.02)
        self._seen = self.screen.index(text, self._seen) + len(text)

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()


@pytest.mark.slow
def test_operator_guided_quick_check_at_the_terminal(tmp_path: Path, tenant_id: str) -> None:
    with sim_station(STATION, tmp_path / "dev") as station:
        pip = server(station, "pipette")
        config = agent_toml(
            tmp_path,
            tenant_id,
            "mqtt://127.0.0.1:9",
            balance=server(station, "balance").address,
            pipettes=(pip.address,),
            sensor=server(station, "sensor").address,
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "labcal_edge.cli",
                "gravimetric",
                "--config",
                str(config),
                "--quick",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        term = Terminal(proc)
        try:
            term.expect("== Quick check")
            term.expect("Operator name: ")
            term.type("Tess")
            term.expect("Pipette (connected): LabCal")
            term.expect("Environment: air")
            for volume in (1000, 100):
                for n in range(1, 5):
                    term.expect(f"Replicate {n}/4: deliver {volume} µL — press Enter when done")
                    with pip.lock:  # the operator presses the pipette's button
                        pip.device.handle_line(b"DISPENSE", 0.0)
                    term.type("")
                    term.expect(f"replicate {n}/4: ")  # the running result
                    term.expect("(mean ")
            term.expect("== Result")
            term.expect("Overall: ")
            assert proc.wait(timeout=30) in (0, 1)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
    assert "1000 µL: mean" in term.screen
    assert "100 µL: mean" in term.screen


@pytest.mark.slow
def test_a_balance_that_never_settles_ends_the_run_clearly(
    tmp_path: Path, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    station_toml = STATION.replace("settle_s = 0.05", 'settle_s = 0.05\nfaults = ["unstable"]')
    with sim_station(station_toml, tmp_path / "dev") as station:
        config = agent_toml(
            tmp_path,
            tenant_id,
            "mqtt://127.0.0.1:9",
            balance=server(station, "balance").address,
            pipettes=(server(station, "pipette").address,),
            sensor=server(station, "sensor").address,
            extra="[gravimetric]\nstable_timeout_s = 0.5\n",
        )
        script = tmp_path / "s.toml"
        script.write_text('operator = "O"\ndeliver = "pipette"\nretry_unstable = [true, false]\n')
        code = main(["gravimetric", "--config", str(config), "--script", str(script), "--quick"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.count("Weight not stable. Try again?: yes") == 1  # the operator retried once
    assert "Weight not stable. Try again?: no" in out
    assert "Overall" not in out


@pytest.mark.slow
def test_balance_unplugged_mid_run_is_reconnected_and_the_run_completes(
    tmp_path: Path, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with sim_station(STATION, tmp_path / "dev") as station:
        balance = server(station, "balance")
        config = agent_toml(
            tmp_path,
            tenant_id,
            "mqtt://127.0.0.1:9",
            balance=balance.address,
            pipettes=(server(station, "pipette").address,),
            sensor=server(station, "sensor").address,
            extra="[gravimetric]\nstable_timeout_s = 5\n",
        )
        script = tmp_path / "s.toml"
        script.write_text(
            'operator = "O"\ndeliver = "pipette"\nvolumes_ul = [500]\nreplicates = 4\n'
        )
        assert station.bench is not None
        bench = station.bench

        def unplug_after_first_delivery() -> None:
            deadline = time.monotonic() + 30
            while not bench.truth and time.monotonic() < deadline:
                time.sleep(0.01)
            balance.unplug(reappear_after_s=1.0)

        helper = threading.Thread(target=unplug_after_first_delivery, daemon=True)
        helper.start()
        code = main(["gravimetric", "--config", str(config), "--script", str(script)])
        helper.join(5)
        truth = list(bench.truth)
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert "the balance is not available" in out
    assert "balance reconnected" in out
    assert "Overall:" in out
    runs = [m.payload for m in stored(tmp_path) if isinstance(m.payload, GravimetricRun)]
    assert len(runs[0].test_volumes[0].masses_mg) == 4
    vr = evaluate_contract_run(runs[0]).volumes[0]
    true_pct = (sum(t.delivered_ul for t in truth) / len(truth) / 500 - 1) * 100
    assert vr.systematic_error_pct == pytest.approx(true_pct, abs=0.05)  # nothing lost or mixed


@pytest.mark.slow
@pytest.mark.parametrize("how", ["q", "ctrl-c"])
def test_operator_can_abort_at_a_prompt(tmp_path: Path, tenant_id: str, how: str) -> None:
    with sim_station(STATION, tmp_path / "dev") as station:
        config = agent_toml(
            tmp_path,
            tenant_id,
            "mqtt://127.0.0.1:9",
            balance=server(station, "balance").address,
            pipettes=(server(station, "pipette").address,),
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "labcal_edge.cli", "gravimetric", "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            # started as a background job would be: SIGINT ignored, which children inherit;
            # the guided run must still abort on Ctrl-C
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
        term = Terminal(proc)
        try:
            term.expect("Operator name: ")
            if how == "q":
                term.type("q")
            else:
                proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 1  # generous: the CI machine is shared and loaded
            assert proc.stderr is not None
            assert "aborted" in proc.stderr.read().decode()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


@pytest.mark.slow
def test_pipette_identified_by_scan_and_a_run_without_liquid_is_still_sent(
    tmp_path: Path, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No smart pipette: the label is scanned. Nobody dispenses, so the masses are balance noise
    around zero (possibly negative): ISO 8655 refuses to judge, the run is still stored."""
    station_toml = (
        '[balance]\nprotocol = "mt-sics"\nsettle_s = 0.05\n'
        '[scanner]\ncodes = ["LC1|LabCal|LP-1000|P-SCAN"]\nevery_s = 0.3\n'
    )
    with sim_station(station_toml, tmp_path / "dev") as station:
        config = agent_toml(
            tmp_path,
            tenant_id,
            "mqtt://127.0.0.1:9",
            balance=server(station, "balance").address,
            scanner=server(station, "scanner").address,
        )
        script = tmp_path / "s.toml"
        script.write_text(
            'operator = "O"\nnominal_ul = 1000\nvolumes_ul = [100]\nreplicates = 2\n'
            "repeat_outlier = false\nair_temp_c = 21\nwater_temp_c = 20.5\n"
            "pressure_kpa = 101.3\nhumidity_pct = 55\n"
        )
        code = main(["gravimetric", "--config", str(config), "--script", str(script)])
    out = capsys.readouterr().out
    assert code == 1
    assert "Pipette (scanned): LabCal LP-1000 #P-SCAN" in out
    assert "== No result: " in out  # ISO 8655 refused to judge; no traceback
    assert "Overall: FAIL" in out
    runs = [m.payload for m in stored(tmp_path) if isinstance(m.payload, GravimetricRun)]
    assert len(runs) == 1
    assert runs[0].pipette.serial == "P-SCAN"
    assert runs[0].environment[0].water_temp_c == 20.5
    assert all(abs(m) < 1 for m in runs[0].test_volumes[0].masses_mg)
