"""One ``serve`` run: prepare the data dir and the database, start the roles under the
supervisor, keep them running, stop them.

``demo up`` drives the same session: it seeds between :meth:`ServeSession.prepare` and
:meth:`ServeSession.start_roles`, starts its stations with :attr:`ServeSession.supervisor` (so
they stop first) and calls :meth:`ServeSession.tick` from its own loop.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from labcal_cloud.serve.backoff import STAYED_UP_S, describe_exit, restart_delay
from labcal_cloud.serve.broker import (
    BrokerMissingError,
    find_mosquitto,
    free_port,
    mosquitto_conf,
    mosquitto_path,
    port_open,
)
from labcal_cloud.serve.console import Console, LineFilter
from labcal_cloud.serve.data_dir import (
    DataDirError,
    Secrets,
    ServePaths,
    load_or_create_secrets,
    lock_data_dir,
    prepare_data_dir,
)
from labcal_cloud.serve.deliveries import DeliveryWatch
from labcal_cloud.serve.lifecycle import ServeStartError, StopRequestedError
from labcal_cloud.serve.options import ServeInputError, ServeOptions
from labcal_cloud.serve.probes import http_ok, port_taken
from labcal_cloud.serve.roles import Readiness, RoleInputs, RoleSpec, command_of, role_specs
from labcal_cloud.serve.supervisor import Child, ChildFailedError, Supervisor

__all__ = ["ServeSession", "labcal_bin"]

_READY_TIMEOUT_S = {"broker": 30.0, "api": 120.0, "ingest": 90.0}
_START_ATTEMPTS = 3
_CHANGE_LINES = ("pipeline", "scheduler")  # roles whose "<role>: …" lines reach the console


def labcal_bin(name: str) -> str:
    """An installed command of this environment (next to the interpreter, else on PATH)."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise ServeStartError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _subcommands() -> set[str]:
    from labcal_cloud.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _shown_url(url: str) -> str:
    """The database URL without its password (for the console)."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"


class ServeSession:
    def __init__(
        self,
        opts: ServeOptions,
        say: Console,
        stop: threading.Event,
        on_line: Callable[[Child, str], None] | None = None,
    ) -> None:
        self.opts = opts
        self.say = say
        self.stop = stop
        self._extra_on_line = on_line
        self._filter = LineFilter(_CHANGE_LINES)
        self.supervisor: Supervisor | None = None
        self.paths: ServePaths | None = None
        self.secrets: Secrets | None = None
        self.database_url = ""
        self.base_url = ""
        self.mqtt_port = 0  # of the broker serve started (0: none)
        self.mqtt_protocol = "5"
        self.env: dict[str, str] = {}
        self.specs: list[RoleSpec] = []
        self.running: dict[str, Child] = {}
        self._failures: dict[str, int] = {}
        self._restarts: dict[str, int] = {}
        self._restart_at: dict[str, float] = {}
        self._deliveries: DeliveryWatch | None = None
        self._lock_fd: int | None = None  # DIR/serve.lock, held while this session runs

    # -- before any role runs
    def prepare(self) -> None:
        """Data dir, roles' commands, ports, secrets, migrations; raise ServeInputError for
        bad input (nothing is started then)."""
        opts = self.opts
        try:
            paths = prepare_data_dir(opts.data_dir)
            self._lock_fd = lock_data_dir(paths)
        except DataDirError as exc:
            raise ServeInputError(str(exc)) from exc
        self.paths = paths
        commands = _subcommands()
        for role in opts.roles:
            command = command_of(role)
            if command is not None and command not in commands:
                raise ServeInputError(
                    f"role {role}: this installation has no 'labcal-cloud {command}' command"
                )
        port = opts.port or free_port(opts.host)
        if opts.port and "api" in opts.roles and port_taken(opts.host, port):
            raise ServeInputError(f"port {port} on {opts.host} is in use (choose --port)")
        host = "127.0.0.1" if opts.host in ("0.0.0.0", "::", "") else opts.host
        self.base_url = (opts.base_url or f"http://{host}:{port}").rstrip("/")
        broker_argv = self._broker(paths)
        try:
            self.secrets = load_or_create_secrets(paths, os.environ, opts.provider)
        except DataDirError as exc:
            raise ServeInputError(str(exc)) from exc
        if self.secrets.made:
            self.say(f"serve: secrets made in {paths.secrets} (kept for every later start)")
        self.database_url = opts.database_url or paths.database_url
        self._migrate()
        self.env = self._environment()
        self.supervisor = Supervisor(paths.logs, self.env, self._on_line, self.stop)
        self.specs = role_specs(
            opts.roles,
            RoleInputs(
                cloud=labcal_bin("labcal-cloud"),
                host=opts.host,
                port=port,
                broker_argv=broker_argv,
                broker_port=self.mqtt_port,
                ingest_client_id=opts.ingest_client_id,
                smtp_host=opts.smtp_host,
                smtp_port=opts.smtp_port,
                scheduler_metrics_port=free_port(),
                scheduler_worker=f"serve-{os.getpid()}",
            ),
        )
        if "broker" in opts.roles and not broker_argv:
            self.specs = [s for s in self.specs if s.name != "broker"]

    def _broker(self, paths: ServePaths) -> tuple[str, ...]:
        """The broker's command line; () when none is started (``--mqtt-url``, no role)."""
        opts = self.opts
        if "broker" not in opts.roles or opts.mqtt_url:
            return ()
        port = opts.broker_port or free_port()
        if opts.broker_port and port_taken("127.0.0.1", port):
            raise ServeInputError(
                f"MQTT port {port} on 127.0.0.1 is in use (choose --broker-port, or --mqtt-url "
                "to use the broker that runs there)"
            )
        self.mqtt_port = port
        embedded = opts.broker == "embedded" or (opts.broker == "auto" and mosquitto_path() is None)
        if embedded:
            self.mqtt_protocol = "3.1.1"
            cloud = labcal_bin("labcal-cloud")
            return (cloud, "broker", "--host", "127.0.0.1", "--port", str(port))
        try:
            binary = find_mosquitto()
        except BrokerMissingError as exc:
            raise ServeInputError(str(exc)) from exc
        kept = paths.broker / "data" if opts.keep_broker_state else None
        if kept is not None:
            kept.mkdir(exist_ok=True)
        conf = mosquitto_conf(port, paths.logs, getpass.getuser(), kept)
        paths.broker_conf.write_text(conf, encoding="utf-8")
        self.mqtt_protocol = "5"
        return (str(binary), "-c", str(paths.broker_conf))

    def _migrate(self) -> None:
        from labcal_cloud.storage.errors import StorageError
        from labcal_cloud.storage.factory import open_store

        self.say(f"database: applying migrations to {_shown_url(self.database_url)}")
        try:
            store = open_store(self.database_url)
            try:
                applied = store.migrate()
            finally:
                store.close()
        except (StorageError, ValueError) as exc:
            raise ServeStartError(f"database: {exc}") from exc
        self.say(f"database: ready ({len(applied)} migrations applied)")

    def _environment(self) -> dict[str, str]:
        assert self.secrets is not None
        opts = self.opts
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.pop("LABCAL_METRICS_PORT", None)  # one port per role that serves metrics
        env.update(
            LABCAL_DATABASE_URL=self.database_url,
            LABCAL_PORTAL_DATABASE_URL=self.database_url,
            LABCAL_SIGNING_KEY=str(self.secrets.signing_key),
            LABCAL_SIGNING_CERT=str(self.secrets.signing_cert),
            LABCAL_LINK_SECRET=self.secrets.link_secret,
            LABCAL_BASE_URL=self.base_url,
            LABCAL_PROVIDER_NAME=opts.provider,
            LABCAL_SMTP_HOST=opts.smtp_host,
            LABCAL_SMTP_PORT=str(opts.smtp_port),
            LABCAL_LOG_FORMAT="json" if opts.json_logs else env.get("LABCAL_LOG_FORMAT", "text"),
        )
        env.setdefault("LABCAL_COOKIE_SECURE", "1" if self.base_url.startswith("https:") else "0")
        if opts.mqtt_url:
            env["LABCAL_MQTT_URL"] = opts.mqtt_url
        elif self.mqtt_port:
            env["LABCAL_MQTT_URL"] = f"mqtt://127.0.0.1:{self.mqtt_port}"
            env["LABCAL_MQTT_PROTOCOL"] = self.mqtt_protocol
            if self.mqtt_protocol == "3.1.1":  # amqtt keeps the sessions of named clients only
                env.setdefault("LABCAL_MQTT_USERNAME", "labcal-ingest")
        return env

    def _on_line(self, child: Child, line: str) -> None:
        if self._filter.shown(child.name, line):
            self.say(line)
        if self._extra_on_line is not None:
            self._extra_on_line(child, line)

    # -- the roles
    def start_roles(self) -> None:
        for spec in self.specs:
            if self.stop.is_set():
                raise StopRequestedError("stopping")
            self._start_role(spec)

    def _starting_text(self, spec: RoleSpec) -> str:
        opts = self.opts
        if spec.name == "broker":
            what = (
                "the embedded amqtt broker (MQTT 3.1.1)"
                if self.mqtt_protocol == "3.1.1"
                else "a private Mosquitto (MQTT 5)"
            )
            return f"broker: starting {what} on 127.0.0.1:{self.mqtt_port}"
        if spec.name == "api":
            return f"api: starting the API + portal (portal-serve) on {self.base_url}"
        if spec.name == "ingest":
            protocol = self.env.get("LABCAL_MQTT_PROTOCOL", "5")
            how = "MQTT 5 shared subscription" if protocol == "5" else "MQTT 3.1.1 subscription"
            return f"ingest: starting one ingest worker ({how}, {self.env.get('LABCAL_MQTT_URL')})"
        if spec.name == "pipeline":
            return "pipeline: starting (stored runs → certificates → due states → reminders)"
        smtp = f"{opts.smtp_host}:{opts.smtp_port}"
        return f"scheduler: starting (e-mail via {smtp}, inbox, webhooks)"

    def _ready_text(self, spec: RoleSpec, child: Child) -> str:
        if spec.name == "api":
            return f"api: ready (pid {child.pid}; {self.base_url}/healthz, /readyz, /metrics)"
        return f"{spec.name}: ready (pid {child.pid})"

    def _start_role(self, spec: RoleSpec) -> None:
        sup = self.supervisor
        assert sup is not None
        self.say(self._starting_text(spec))
        child = sup.start(spec.name, spec.argv, extra_env=dict(spec.env))
        self.running[spec.name] = child
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._wait_ready(spec, child)
            except ChildFailedError as exc:
                if self.stop.is_set():
                    raise StopRequestedError("stopping") from exc
                if attempt == _START_ATTEMPTS:
                    raise ServeStartError(f"{spec.name} did not start: {exc}") from exc
                delay = restart_delay(attempt)
                self.say(f"{spec.name}: not ready ({exc}); restarting in {delay:g} s")
                if self.stop.wait(delay):
                    raise StopRequestedError("stopping") from exc
                child = sup.restart(child)
                self.running[spec.name] = child
                continue
            self.say(self._ready_text(spec, child))
            return

    def _wait_ready(self, spec: RoleSpec, child: Child) -> None:
        timeout = _READY_TIMEOUT_S.get(spec.name, 120.0)
        if spec.readiness is Readiness.LINE:
            child.wait_for_line(spec.probe, timeout)
            return
        if spec.readiness is Readiness.PORT:
            host, port = spec.probe.rsplit(":", 1)

            def check() -> bool:
                return port_open(host, int(port))
        else:

            def check() -> bool:
                return http_ok(spec.probe)

        deadline = time.monotonic() + timeout
        while not check():
            if not child.alive():
                code = describe_exit(child.proc.wait())
                raise ChildFailedError(f"{child.name} exited with {code} (log: {child.log_path})")
            if self.stop.is_set():
                raise ChildFailedError(f"{child.name}: stopped while waiting for it")
            if time.monotonic() > deadline:
                raise ChildFailedError(
                    f"{child.name}: not ready within {timeout:.0f} s (log: {child.log_path})"
                )
            time.sleep(0.2)

    # -- while running
    def tick(self) -> None:
        """Restart each role that exited (with backoff, said on the console); report the
        scheduler's deliveries. Call it every half second or so."""
        sup = self.supervisor
        assert sup is not None
        now = time.monotonic()
        for spec in self.specs:
            child = self.running.get(spec.name)
            if child is None or child.alive() or self.stop.is_set():
                continue
            if spec.name not in self._restart_at:
                stayed = now - child.started_at >= STAYED_UP_S
                failures = 1 if stayed else self._failures.get(spec.name, 0) + 1
                self._failures[spec.name] = failures
                self._restarts[spec.name] = self._restarts.get(spec.name, 0) + 1
                delay = restart_delay(failures)
                self._restart_at[spec.name] = now + delay
                self.say(
                    f"{spec.name}: exited with {describe_exit(child.proc.wait())} "
                    f"(log: {child.log_path}); restarting in {delay:g} s "
                    f"(restart {self._restarts[spec.name]})"
                )
            elif now >= self._restart_at[spec.name]:
                del self._restart_at[spec.name]
                child = sup.restart(child)
                self.running[spec.name] = child
                self.say(f"{spec.name}: restarted (pid {child.pid})")
                try:
                    self._wait_ready(spec, child)
                except ChildFailedError as exc:
                    self.say(f"{spec.name}: not ready after its restart ({exc})")
                    child.proc.kill()  # the next tick sees it exited and schedules a restart
                else:
                    self.say(self._ready_text(spec, child))
        self._report_deliveries(now)

    def _report_deliveries(self, now: float) -> None:
        child = self.running.get("scheduler")
        if child is None or not child.alive():
            return
        if self._deliveries is None:
            spec = next(s for s in self.specs if s.name == "scheduler")
            self._deliveries = DeliveryWatch(spec.probe.replace("/readyz", "/metrics"), self.say)
        self._deliveries.check(child.pid, now)

    def banner(self) -> list[str]:
        """Where to look, once every role is ready."""
        if "api" not in self.opts.roles:
            return []
        lines = [
            f"Portal:   {self.base_url}/login",
            f"Inbox:    {self.base_url}/inbox   (reminders; JSON at /api/v1/inbox)",
            f"Ops:      {self.base_url}/healthz  /readyz  /metrics",
        ]
        if self.database_url.startswith("sqlite:"):
            lines.append(
                f"First admin: LABCAL_DATABASE_URL={self.database_url} "
                "labcal-cloud portal-admin --email you@example.org"
            )
        return lines

    def stop_all(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop_all(say=self.say)
