"""Nothing lost under faults, at fleet scale: the whole chain under a seeded storm of faults.

Run:  nice .venv/bin/python bench/bench_faults.py --seed 20261207          (full size, minutes)
      .venv/bin/python bench/bench_faults.py --quick --json                 (CI smoke size)

The rig (``faults_rig.py``), all OS processes started from their binaries: a private PostgreSQL
cluster (``initdb``/``pg_ctl``), a private Mosquitto (persistence as deployed), 2 ingest workers
(``labcal-cloud ingest``, one shared subscription, storage receipts on), ``--stations`` edge
agents (``labcal-edge run``, ``storage_receipts = true``) reaching the broker through a TCP proxy,
and simulated devices on TCP (``faults_sim.py``: per station ``--balances`` MT-SICS balances, the
first polled one reading a message, the others sending ``reading_batch`` messages of
``--batch`` values, and a smart pipette in use, hence usage reports; device events when devices
come and go; station status) plus gravimetric runs committed into some outboxes
(``faults_runs.py``). One station's outbox lives on a small tmpfs.

The faults (``faults_plan.py``, seeded): kill -9 and restart of each ingest worker several times,
of the broker, of edge agents; crash-restarts of PostgreSQL; every agent connection cut at the
proxy; the tmpfs filled until the outbox refuses writes, then freed. After the last fault the
producers stop (and, if needed, the rig first runs on until ``--min-messages`` are committed);
then it waits until storage holds every committed message ("drain").

The verdict (``faults_count.py``), by message id and content digest: every message an outbox
committed (a ledger kept by an SQLite trigger in the outbox's own transaction) against the
``messages`` rows and content rows in PostgreSQL: lost, doubled, changed, unexpected,
reordered per station sequence; and the drain time after the last fault. Exit status 1 when
anything was lost, doubled or changed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_ledger import (
    TENANT,
    ledger_count,
    outbox_state,
    prepare_outbox,
    read_verdict,
    stored_counts,
)
from faults_plan import Fault, plan
from faults_report import print_report
from faults_rig import Broker, Postgres, Proc, Proxy, SmallDisk, Supervisor

from labcal_cloud.storage import open_store
from labcal_cloud.storage.ports import StationRecord

HERE = Path(__file__).resolve().parent


@dataclass
class Station:
    index: int
    name: str
    data_dir: Path
    agent: Proc | None = None

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox.sqlite3"


@dataclass
class Rig:
    work: Path
    pg: Postgres
    broker: Broker
    proxy: Proxy
    db_url: str
    stations: list[Station]
    workers: list[Proc]
    sims: list[Proc] = field(default_factory=list)
    runs: Proc | None = None
    disk: SmallDisk | None = None
    supervisor: Supervisor | None = None


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def edge_toml(
    st: Station, port: int, balances: list[str], pipette: str, batch: int, receipts: bool = True
) -> str:
    lines = [
        f'[station]\ntenant = "{TENANT}"\nid = "{st.name}"\ndata_dir = "{st.data_dir}"\n',
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nclient_id = "edge-{st.name}"',
        f"storage_receipts = {str(receipts).lower()}",
        "receipt_timeout_s = 10.0\nno_subscriber_retry_s = 2.0",
        "reconnect_base_s = 0.2\nreconnect_cap_s = 2.0\nstatus_interval_s = 5.0\n",
        '[outbox]\nsynchronous = "normal"\npolicy = "refuse"\n',
        "[usage]\npoll_interval_s = 0.25\n",
    ]
    for i, url in enumerate(balances):
        lines.append(f'[[balance]]\nname = "bal{i}"\nport = "{url}"\ndialect = "mt-sics"')
        lines.append("poll_s = 0.05" + (f"\nbatch = {batch}\n" if i else "\n"))
    lines.append(f'[[pipette]]\nname = "pip"\nport = "{pipette}"\n')
    return "\n".join(lines)


def start(args: argparse.Namespace, work: Path) -> Rig:
    pg_dir = work / "pg"
    pg_dir.mkdir()
    pg = Postgres(pg_dir)
    pg.start()
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE labcal")
    db_url = pg.url("labcal")
    names = [f"st-{i:02d}" for i in range(args.stations)]
    store = open_store(db_url)
    store.migrate()
    for name in names:
        store.add_station(StationRecord(name, TENANT, "$7$101$x$y"))
    store.close()
    broker = Broker(work)
    broker.start()
    proxy = Proxy(broker.port)
    env = dict(os.environ, LABCAL_INGEST_SESSION_EXPIRY_S="86400")
    workers = [
        Proc(
            f"ingest-{w}",
            [
                *python("-m", "labcal_cloud.cli", "--database-url", db_url, "--mqtt-url"),
                f"mqtt://127.0.0.1:{broker.port}",
                "ingest",
                "--client-id",
                f"ingest-{w}",
                "--group",
                "ingest",
                "--tenant-filter",
                TENANT,
            ],
            work / f"ingest-{w}.log",
            env,
        )
        for w in range(args.workers)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.wait_for("subscribed", 60)
    stations = [Station(i, n, work / "stations" / n) for i, n in enumerate(names)]
    rig = Rig(work, pg, broker, proxy, db_url, stations, workers)
    disk_st = stations[args.disk_station]
    rig.disk = SmallDisk(disk_st.data_dir, args.disk_mb)
    half = (args.stations + 1) // 2
    addresses: dict[int, dict[str, object]] = {}
    for part, (lo, hi) in enumerate(((0, half - 1), (half, args.stations - 1))):
        if lo > hi:
            continue
        sim = Proc(
            f"sim-{part}",
            [
                *python(str(HERE / "faults_sim.py"), "--stations", f"{lo}-{hi}"),
                "--balances",
                str(args.balances),
                "--seed",
                str(args.seed),
            ],
            work / f"sim-{part}.log",
        ).start()
        sim.wait_for("ready", 60)
        rig.sims.append(sim)
        for line in sim.log.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                addresses[int(entry["station"])] = entry
    for st in stations:
        st.data_dir.mkdir(parents=True, exist_ok=True)
        prepare_outbox(st.outbox)
        a = addresses[st.index]
        conf = st.data_dir.parent / f"{st.name}.toml"
        balances = [str(b) for b in a["balances"]]  # type: ignore[attr-defined]
        conf.write_text(
            edge_toml(st, proxy.port, balances, str(a["pipette"]), args.batch, not args.no_receipts)
        )
        st.agent = Proc(
            st.name,
            python("-m", "labcal_edge.cli", "run", "--config", str(conf)),
            work / f"agent-{st.name}.log",
        ).start()
    runs_for = [s for s in stations if s.index != args.disk_station][: args.run_stations]
    rig.runs = Proc(
        "runs",
        python(str(HERE / "faults_runs.py"), "--tenant", TENANT, "--every-s", str(args.run_every_s))
        + [f"{s.name}={s.outbox}" for s in runs_for],
        work / "runs.log",
    ).start()
    agents = [s.agent for s in stations if s.agent is not None]
    rig.supervisor = Supervisor([*workers, *agents])  # Restart= of deploy/systemd
    return rig


def inject(rig: Rig, fault: Fault, log: list[str]) -> None:
    hold = fault.hold_s
    if fault.kind == "kill_ingest":
        w = rig.workers[fault.target]
        w.kill9()
        time.sleep(hold)
        w.start()
    elif fault.kind == "kill_broker":
        rig.broker.kill9()
        time.sleep(hold)
        rig.broker.start()
    elif fault.kind == "restart_postgres":
        rig.pg.crash()
        time.sleep(hold)
        rig.pg.start()
    elif fault.kind == "kill_agent":
        agent = rig.stations[fault.target].agent
        assert agent is not None
        agent.kill9()
        time.sleep(hold)
        agent.start()
    elif fault.kind == "cut_tcp":
        n = rig.proxy.cut(hold)
        log.append(f"    {n} connections cut")
        time.sleep(hold)
    elif fault.kind == "disk_full":
        assert rig.disk is not None
        st = rig.stations[fault.target]
        assert st.agent is not None
        mark = st.agent.lines()
        filled = rig.disk.fill()
        try:
            # SQLite first reuses the WAL pages it has; it is refused once the WAL must grow
            t_fill = time.monotonic()
            st.agent.wait_for("OUTBOX ALERT: outbox full", 180, since=mark)
            log.append(
                f"    {filled / 1e6:.1f} MB ballast; after {time.monotonic() - t_fill:.1f} s the "
                "agent says 'OUTBOX ALERT: outbox full: … new messages are refused'"
            )
            time.sleep(hold)
        finally:
            rig.disk.free()
        st.agent.wait_for("accepting again", 30, since=mark)
        log.append("    freed; agent: 'outbox accepting again'")
    else:
        raise ValueError(fault.kind)


def committed_total(rig: Rig) -> int:
    return sum(ledger_count(s.outbox) for s in rig.stations)


def wait_drained(rig: Rig, timeout_s: float) -> float | None:
    """When (monotonic) storage holds as many messages per station as the ledgers (None:
    not within ``timeout_s``)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        try:
            stored = stored_counts(rig.db_url)
        except psycopg.OperationalError:
            stored = {}
        if all(stored.get(s.name, 0) >= ledger_count(s.outbox) for s in rig.stations):
            return time.monotonic()
        time.sleep(0.2)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--quick", action="store_true", help="CI size: 4 stations, one of each fault")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--stations", type=int)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--balances", type=int, default=2, help="per station (>= 1)")
    ap.add_argument("--batch", type=int, default=20, help="values per reading_batch message")
    ap.add_argument("--min-messages", type=int, help="committed messages before producers stop")
    ap.add_argument("--run-stations", type=int, default=5)
    ap.add_argument("--run-every-s", type=float, default=1.0)
    ap.add_argument("--disk-mb", type=int, default=48)
    ap.add_argument("--drain-timeout", type=float, default=600.0)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument(
        "--no-receipts",
        action="store_true",
        help="edges delete at the broker's PUBACK (storage_receipts = false): the comparison",
    )
    args = ap.parse_args()
    args.stations = args.stations or (4 if args.quick else 20)
    args.min_messages = args.min_messages or (2000 if args.quick else 100_000)
    args.disk_station = args.stations - 1
    if args.quick:
        schedule = plan(
            args.seed,
            workers=args.workers,
            stations=args.stations,
            disk_station=args.disk_station,
            kills_per_worker=1,
            broker_kills=1,
            postgres_restarts=1,
            agent_kills=1,
            cuts=1,
            gap_s=(1.5, 3.0),
            hold_s=(0.5, 1.5),
            disk_hold_s=3.0,
        )
    else:
        schedule = plan(  # about 5 minutes of faults: the time 20 stations take for 100,000
            args.seed,
            workers=args.workers,
            stations=args.stations,
            disk_station=args.disk_station,
            gap_s=(8.0, 14.0),
        )
    work = Path(tempfile.mkdtemp(prefix="labcal-faults-"))
    work.chmod(0o755)  # the postgres user reaches its cluster inside
    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else print
    rig: Rig | None = None
    log: list[str] = []
    try:
        t_setup = time.monotonic()
        rig = start(args, work)
        say(f"rig up in {time.monotonic() - t_setup:.1f} s: {work}")
        time.sleep(3.0)
        t0 = time.monotonic()
        for fault in schedule:
            delay = t0 + fault.at_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            line = fault.describe()
            say(line)
            log.append(line)
            inject(rig, fault, log)
        t_last = time.monotonic()
        while committed_total(rig) < args.min_messages:
            time.sleep(1.0)
        t_stop = time.monotonic()
        assert rig.runs is not None
        rig.runs.stop()
        for sim in rig.sims:
            sim.stop()
        time.sleep(2.0)  # the agents see their devices go (device events, committed too)
        drained = wait_drained(rig, args.drain_timeout)
        drain_s = None if drained is None else drained - t_last
        t_depth = time.monotonic()
        while time.monotonic() - t_depth < 60 and any(
            outbox_state(s.outbox)[0] for s in rig.stations
        ):
            time.sleep(0.5)
        states = [outbox_state(s.outbox) for s in rig.stations]
        assert rig.supervisor is not None
        rig.supervisor.stop()
        for st in rig.stations:
            assert st.agent is not None
            st.agent.stop()
        counts, kinds = read_verdict({s.name: s.outbox for s in rig.stations}, rig.db_url)
        disk_agent = rig.stations[args.disk_station].agent
        assert disk_agent is not None
        report = {
            "seed": args.seed,
            "storage_receipts": not args.no_receipts,
            "stations": args.stations,
            "ingest_workers": args.workers,
            "messages_by_kind": dict(sorted(kinds.items())),
            "faults": [f.describe() for f in schedule],
            "fault_phase_s": round(t_last - t0, 1),
            "producers_ran_after_last_fault_s": round(t_stop - t_last, 1),
            "drain_after_last_fault_s": None if drain_s is None else round(drain_s, 1),
            "drain_after_producers_stopped_s": (
                None if drained is None else round(drained - t_stop, 1)
            ),
            "left_in_outboxes": sum(s[0] for s in states),
            "refused_by_full_outbox": sum(s[1] for s in states),
            "dead_letters": sum(s[2] for s in states),
            "restarted_after_exit": {
                p.name: p.crashes
                for p in [*rig.workers, *(s.agent for s in rig.stations if s.agent)]
                if p.crashes
            },
            "operator_message": disk_agent.seen("OUTBOX ALERT: outbox full"),
            **counts.as_dict(),
        }
        if args.json:
            print(json.dumps(report))
        else:
            print_report(report, log)
        bad = counts.lost or counts.doubled or counts.changed or drain_s is None
        return 1 if bad else 0
    finally:
        if rig is not None:
            stop_all(rig)
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def stop_all(rig: Rig) -> None:
    if rig.supervisor is not None:
        rig.supervisor.stop()
    for p in [*(s.agent for s in rig.stations), rig.runs, *rig.sims, *rig.workers]:
        if p is not None:
            p.stop(10)
    rig.proxy.close()
    rig.broker.stop()
    rig.pg.stop()
    if rig.disk is not None:
        rig.disk.unmount()


if __name__ == "__main__":
    sys.exit(main())
