"""What a new station needs (pure): its broker password line, ACL entries and edge config."""

from __future__ import annotations

from collections.abc import Iterable

from labcal_cloud.storage.ports import StationRecord
from labcal_shared.contracts import validate_identifier

__all__ = ["acl_entries", "acl_file", "edge_config", "password_file", "password_line"]


def password_line(station: str, password_hash: str) -> str:
    return f"{validate_identifier(station, 'station')}:{password_hash}"


def acl_entries(tenant: str, station: str) -> str:
    """A station may publish only under its own prefix and read only its own ``cmd`` topic."""
    validate_identifier(tenant, "tenant")
    validate_identifier(station, "station")
    prefix = f"labcal/v1/{tenant}/{station}"
    return (
        f"user {station}\n"
        f"topic write {prefix}/usage\n"
        f"topic write {prefix}/reading\n"
        f"topic write {prefix}/run\n"
        f"topic write {prefix}/event\n"
        f"topic readwrite {prefix}/status\n"
        f"topic read {prefix}/cmd\n"
    )


def password_file(records: Iterable[StationRecord], extra: Iterable[str] = ()) -> str:
    """A whole mosquitto password file: the stations plus ``extra`` lines (service users)."""
    lines = [password_line(r.station, r.password_hash) for r in records]
    return "\n".join([*extra, *lines]) + "\n"


def acl_file(records: Iterable[StationRecord], service_users: Iterable[str] = ()) -> str:
    """A whole mosquitto ACL file: service users (ingest) read every tenant; stations their own."""
    blocks = [
        f"user {u}\ntopic read labcal/v1/#\ntopic write labcal/v1/+/+/cmd\n" for u in service_users
    ]
    blocks += [acl_entries(r.tenant, r.station) for r in records]
    return "\n".join(blocks)


def edge_config(
    tenant: str, station: str, password: str, *, host: str, port: int, ca_file: str | None
) -> str:
    """The ``[station]`` and ``[mqtt]`` sections of the edge agent's TOML configuration."""
    lines = [
        "[station]",
        f'tenant = "{validate_identifier(tenant, "tenant")}"',
        f'id = "{validate_identifier(station, "station")}"',
        "",
        "[mqtt]",
        f'host = "{host}"',
        f"port = {port}",
        f'client_id = "{station}"',
        f'username = "{station}"',
        f'password = "{password}"',
        "storage_receipts = true  # delete a message when ingest says it is stored",
    ]
    if ca_file:
        lines += ["", "[mqtt.tls]", f'ca_file = "{ca_file}"']
    return "\n".join(lines) + "\n"
