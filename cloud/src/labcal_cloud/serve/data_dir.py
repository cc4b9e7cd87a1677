"""The data directory of ``serve``: what lives where, made when missing and never wiped.

``DIR/labcal.sqlite3`` (the default database), ``DIR/logs/<role>.log``, ``DIR/secrets/`` (0700:
the link secret and, when none is configured, the provider's signing key and certificate, each
0600; made once, then read at every start so booking links and certificates stay valid across
restarts), ``DIR/broker/`` (the private Mosquitto's configuration and persistence).
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labcal_cloud.serve.signing import write_signing_pair

__all__ = [
    "DataDirError",
    "Secrets",
    "ServePaths",
    "holder_of_lock",
    "load_or_create_secrets",
    "lock_data_dir",
    "prepare_data_dir",
]


class DataDirError(ValueError):
    """The data directory cannot be used (a file, not writable, a broken secret)."""


@dataclass(frozen=True, slots=True)
class ServePaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "labcal.sqlite3"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def link_secret(self) -> Path:
        return self.secrets / "link-secret"

    @property
    def signing_key(self) -> Path:
        return self.secrets / "signing-key.pem"

    @property
    def signing_cert(self) -> Path:
        return self.secrets / "signing-cert.pem"

    @property
    def lock(self) -> Path:
        return self.root / "serve.lock"

    @property
    def broker(self) -> Path:
        return self.root / "broker"

    @property
    def broker_conf(self) -> Path:
        return self.broker / "mosquitto.conf"


@dataclass(frozen=True, slots=True)
class Secrets:
    link_secret: str
    signing_key: Path
    signing_cert: Path
    made: tuple[str, ...]  # what this start generated (empty when everything was there)


def prepare_data_dir(root: Path) -> ServePaths:
    """``root`` resolved, created with its folders when missing; nothing in it is removed."""
    root = root.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise DataDirError(f"data dir {root} exists and is not a directory")
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new one: the owner's only
        paths = ServePaths(root)
        paths.logs.mkdir(exist_ok=True)
        paths.broker.mkdir(exist_ok=True)
        paths.secrets.mkdir(mode=0o700, exist_ok=True)
        os.chmod(paths.secrets, 0o700)
    except OSError as exc:
        raise DataDirError(f"data dir {root}: {exc.strerror or exc}") from exc
    if not os.access(root, os.W_OK):
        raise DataDirError(f"data dir {root} is not writable")
    return paths


def holder_of_lock(lock: Path) -> int | None:
    """The pid of the process holding ``lock`` (a running serve), or None."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)  # closing releases a lock taken here
    return None


def lock_data_dir(paths: ServePaths) -> int:
    """Hold ``DIR/serve.lock`` for the life of this process (one serve per data dir: two would
    share the SQLite file, the broker's state and the logs); return its file descriptor."""
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = holder_of_lock(paths.lock)
        who = f" (pid {holder})" if holder and holder > 0 else ""
        raise DataDirError(f"data dir {paths.root} is in use by another serve{who}") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd  # children do not inherit it (close_fds); it is released when serve exits


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def load_or_create_secrets(paths: ServePaths, env: Mapping[str, str], provider: str) -> Secrets:
    """The configured secrets (``LABCAL_LINK_SECRET``, ``LABCAL_SIGNING_KEY`` and
    ``LABCAL_SIGNING_CERT``) where set, else the ones kept in the data dir, made on first use."""
    made: list[str] = []
    link = env.get("LABCAL_LINK_SECRET", "")
    if not link:
        if not paths.link_secret.exists():
            _write_private(paths.link_secret, secrets.token_urlsafe(36) + "\n")
            made.append(str(paths.link_secret))
        link = paths.link_secret.read_text(encoding="utf-8").strip()
        if len(link) < 32:
            raise DataDirError(f"{paths.link_secret} holds fewer than 32 characters")
    key, cert = env.get("LABCAL_SIGNING_KEY"), env.get("LABCAL_SIGNING_CERT")
    if bool(key) != bool(cert):
        raise DataDirError("set both LABCAL_SIGNING_KEY and LABCAL_SIGNING_CERT, or neither")
    if key and cert:
        return Secrets(link, Path(key), Path(cert), tuple(made))
    if paths.signing_key.exists() != paths.signing_cert.exists():
        raise DataDirError(
            f"{paths.secrets} holds only one of signing-key.pem and signing-cert.pem; "
            "restore the other (certificates already issued were signed with the pair)"
        )
    if not paths.signing_key.exists():
        write_signing_pair(paths.signing_key, paths.signing_cert, provider)
        made += [str(paths.signing_key), str(paths.signing_cert)]
    return Secrets(link, paths.signing_key, paths.signing_cert, tuple(made))
