"""The broker ``serve`` starts on loopback: a private Mosquitto started from the ``mosquitto``
binary when there is one, else the embedded amqtt broker
(:mod:`labcal_cloud.serve.embedded_broker`, MQTT 3.1.1). A broker that is already running (say
the machine's own on :1883) is never used nor touched, unless ``serve --mqtt-url`` points at it.
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

__all__ = [
    "BrokerMissingError",
    "find_mosquitto",
    "free_port",
    "mosquitto_conf",
    "mosquitto_path",
    "port_open",
    "wait_port",
]

_SEARCH = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")


class BrokerMissingError(RuntimeError):
    pass


def mosquitto_path() -> Path | None:
    """The ``mosquitto`` binary on PATH or in the usual sbin/bin folders, or None."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path=":".join(_SEARCH))
    return Path(found) if found else None


def find_mosquitto() -> Path:
    found = mosquitto_path()
    if found is None:
        raise BrokerMissingError(
            "no 'mosquitto' binary found: install it (Debian: apt-get install mosquitto); "
            "serve starts its own private instance and never uses a running one"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.1)
    return False


def mosquitto_conf(port: int, logs: Path, user: str, persistence: Path | None = None) -> str:
    """A private, loopback-only Mosquitto (a running broker is never used); ``user``: run as this
    user (Mosquitto started as root otherwise switches to 'mosquitto'); ``persistence``: a folder
    where it keeps sessions and queued messages across restarts (None: in memory only)."""
    kept = (
        f"persistence true\npersistence_location {persistence}/\nautosave_interval 30\n"
        if persistence is not None
        else "persistence false\n"
    )
    return (
        "per_listener_settings false\n"
        f"user {user}\n"
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        f"{kept}"
        "max_queued_messages 100000\n"
        "log_type error\nlog_type warning\n"
        f"log_dest file {logs / 'mosquitto.log'}\n"
    )
