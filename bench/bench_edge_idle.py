"""Idle CPU and RSS of the edge agent with 1 balance and 8 smart pipettes (firmware-sim ptys).

Run: .venv/bin/python bench/bench_edge_idle.py [--seconds 20] [--runs 3]
Starts a simulated station (1 MT-SICS balance, 8 pipettes) and a private Mosquitto, runs
``labcal-edge run`` as a subprocess with the default polling (pipettes every 5 s, balance not
streamed), lets it settle, then measures its CPU time and RSS from /proc over the window.
Goal: < 2 % of one core, < 80 MB RSS.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from labcal_sim.clock import MonotonicClock
from labcal_sim.station import build_station
from labcal_sim.station_config import parse_station_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_run(tmp: Path, seconds: float) -> tuple[float, float]:
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n")
    broker = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
        stderr=subprocess.DEVNULL,
    )
    station_toml = f'link_dir = "{tmp}/dev"\n[balance]\nprotocol = "mt-sics"\n' + "".join(
        f'[[pipettes]]\nserial = "P-{i}"\n' for i in range(8)
    )
    station = build_station(parse_station_config(station_toml), MonotonicClock()).start()
    addresses = {s.device.kind + str(i): s.address for i, s in enumerate(station.servers)}
    balance = next(a for k, a in addresses.items() if k.startswith("balance"))
    pipettes = [a for k, a in addresses.items() if k.startswith("pipette")]
    text = (
        f'[station]\ntenant = "bench"\nid = "idle"\ndata_dir = "{tmp}/data"\n'
        f"[mqtt]\nport = {port}\n"
        f'[[balance]]\nname = "bal"\nport = "{balance}"\n'
        + "".join(f'[[pipette]]\nname = "p{i}"\nport = "{p}"\n' for i, p in enumerate(pipettes))
    )
    config = tmp / "edge.toml"
    config.write_text(text)
    agent = subprocess.Popen(
        [sys.executable, "-m", "labcal_edge.cli", "run", "--config", str(config)],
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)  # start-up, first connects and reports
        c0, t0 = cpu_seconds(agent.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(agent.pid), time.monotonic()
        return 100 * (c1 - c0) / (t1 - t0), rss_mb(agent.pid)
    finally:
        agent.terminate()
        agent.wait()
        station.stop()
        broker.terminate()
        broker.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as d:
            results.append(one_run(Path(d), args.seconds))
    cpu = statistics.median(r[0] for r in results)
    rss = statistics.median(r[1] for r in results)
    print(
        f"agent idle with 1 balance + 8 pipettes: CPU {cpu:.2f} % of one core, RSS {rss:.1f} MB "
        f"(median of {args.runs} runs x {args.seconds:g} s; goal < 2 %, < 80 MB)"
    )


if __name__ == "__main__":
    main()
