"""The fault benchmark's processes: start them, kill them (-9), start them again.

* :class:`Proc`: a subprocess whose output goes, line by line, to a log file (a reader thread;
  a pipe, so a full outbox disk never blocks its logging); it can wait for a line.
* :class:`Postgres`: a private cluster from the binaries (``initdb``, ``pg_ctl``; run as the
  ``postgres`` user when we are root), crash-stopped with ``-m immediate``.
* :class:`Broker`: a private Mosquitto with the persistence settings of
  ``deploy/mosquitto/mosquitto.conf`` (``autosave_interval 60``), killed with SIGKILL.
* :class:`Proxy`: a TCP relay between the agents and the broker that can cut every connection
  and refuse new ones for a while.
* :class:`SmallDisk`: a tmpfs for one station's outbox, filled with a ballast file until it
  refuses writes, then freed.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "Broker",
    "Postgres",
    "Proc",
    "Proxy",
    "SmallDisk",
    "Supervisor",
    "free_port",
    "wait_port",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s:g} s")


class Proc:
    """One OS process of the rig; ``start`` again after ``kill9`` (same command, same log)."""

    def __init__(
        self, name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self.starts = 0
        self.down = False  # killed on purpose (a fault): not restarted by the supervisor
        self.crashes = 0  # exits the supervisor restarted

    def start(self) -> Proc:
        self.down = False
        self.proc = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
        )
        self.starts += 1
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        return self

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with self.log.open("ab") as out:
            for raw in proc.stdout:
                out.write(raw)
                out.flush()
                with self._lock:
                    self._lines.append(raw.decode(errors="replace"))

    def wait_for(self, text: str, timeout_s: float = 30.0, since: int = 0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.seen(text, since):
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no {text!r} within {timeout_s:g} s; see {self.log}")

    def seen(self, text: str, since: int = 0) -> bool:
        with self._lock:
            return any(text in line for line in self._lines[since:])

    def lines(self) -> int:
        with self._lock:
            return len(self._lines)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        self.down = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; the exit code."""
        self.down = True
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


class Supervisor:
    """What systemd's ``Restart=`` or Kubernetes do: a process of ``procs`` that exited by
    itself (not killed by a fault) is started again after ``delay_s``; counted in
    ``Proc.crashes``."""

    def __init__(self, procs: Sequence[Proc], delay_s: float = 2.0) -> None:
        self.procs = list(procs)
        self.delay_s = delay_s
        self._stop = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            for p in self.procs:
                if not p.down and p.proc is not None and p.proc.poll() is not None:
                    if self._stop.wait(self.delay_s) or p.down or p.proc.poll() is None:
                        continue  # stopping, killed by a fault meanwhile, or started again
                    p.crashes += 1
                    p.start()

    def stop(self) -> None:
        self._stop.set()


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Postgres:
    """A private PostgreSQL cluster on a free port."""

    BIN = Path(os.environ.get("LABCAL_PG_BIN", "/usr/lib/postgresql/15/bin"))

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pgdata"
        self.port = free_port()
        self.log = workdir / "postgres.log"
        if not (self.BIN / "initdb").exists():
            raise RuntimeError(f"no initdb in {self.BIN} (set LABCAL_PG_BIN)")
        if os.geteuid() == 0:
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
            shutil.chown(workdir, "postgres")
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.log, "postgres")
        _run(
            [
                *_as_postgres(),
                str(self.BIN / "initdb"),
                "-D",
                str(self.dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ]
        )

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def _ctl(self, *args: str) -> None:
        _run([*_as_postgres(), str(self.BIN / "pg_ctl"), "-D", str(self.dir), *args])

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._ctl("-l", str(self.log), "-w", "-t", "120", "-o", opts, "start")

    def crash(self) -> None:
        """Stop as a crash would: no checkpoint, recovery from the WAL at the next start."""
        self._ctl("-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._ctl("-m", "fast", "-w", "stop")


class Broker:
    """A private Mosquitto on a free port, persistence as deployed."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "mosquitto"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        conf = self.dir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.dir}/\n"
            "autosave_interval 60\n"
            "persistent_client_expiration 1d\n"
            "max_inflight_messages 10000\n"
            "max_queued_messages 1000000\n"
            "max_queued_bytes 0\n"
            "max_packet_size 16777216\n"
            f"log_dest file {self.dir}/mosquitto.log\n"
            f"user {getpass.getuser()}\n"
        )
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = Proc("mosquitto", [exe, "-c", str(conf)], self.dir / "stdout.log")

    def start(self) -> None:
        self.proc.start()
        wait_port(self.port)

    def kill9(self) -> None:
        self.proc.kill9()

    def stop(self) -> None:
        self.proc.stop()


class Proxy:
    """TCP relay 127.0.0.1:``port`` → 127.0.0.1:``target``, two threads per connection."""

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._refuse_until = 0.0
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if time.monotonic() < self._refuse_until:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
                with self._lock:
                    self._conns.discard(s)

    def cut(self, refuse_s: float) -> int:
        """Drop every connection (RST) and refuse new ones for ``refuse_s``; how many cut."""
        self._refuse_until = time.monotonic() + refuse_s
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                s.shutdown(socket.SHUT_RDWR)
        self.cuts += 1
        return len(conns) // 2

    def close(self) -> None:
        self._listener.close()


class SmallDisk:
    """A tmpfs of ``size_mb`` at ``path`` (needs root: ``mount``)."""

    def __init__(self, path: Path, size_mb: int) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        _run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)])
        self._ballast = path / "ballast"

    def fill(self) -> int:
        """Write a ballast file until the file system refuses; the bytes written."""
        written = 0
        fd = os.open(self._ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 4096, 512, 1):  # then the last blocks
                while True:
                    try:
                        n = os.write(fd, b"\0" * size)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
                    written += n
                    if n < size:
                        break
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        self._ballast.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False, capture_output=True)
