"""``labcal-cloud station ...``: register stations and write the broker's password/ACL files."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from labcal_cloud.db.gateway import connect
from labcal_cloud.settings import Settings
from labcal_cloud.stations.passwords import SALT_BYTES, mosquitto_hash
from labcal_cloud.stations.provisioning import (
    acl_entries,
    acl_file,
    edge_config,
    password_file,
    password_line,
)
from labcal_cloud.storage.factory import open_store
from labcal_cloud.storage.ports import StationExistsError, StationRecord
from labcal_shared.contracts import validate_identifier
from labcal_shared.errors import TopicError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    station = subparsers.add_parser("station", help="register stations, broker credentials")
    sub = station.add_subparsers(dest="station_command", required=True, metavar="ACTION")
    add: argparse.ArgumentParser = sub.add_parser(
        "add", help="register a station; print its edge config and Mosquitto entries"
    )
    add.add_argument("--tenant", required=True)
    add.add_argument("--station", required=True, help="station id (also its MQTT user name)")
    add.add_argument("--password", help="default: a new random password")
    add.add_argument("--broker-host", default="mqtt.example.org")
    add.add_argument("--broker-port", type=int, default=8883)
    add.add_argument("--ca-file", default="/etc/labcal-edge/ca.crt")
    add.set_defaults(handler=station_add)
    lst = sub.add_parser("list", help="list registered stations")
    lst.add_argument("--tenant")
    lst.set_defaults(handler=station_list)
    files = sub.add_parser(
        "mosquitto-files", help="write Mosquitto password and ACL files for every station"
    )
    files.add_argument("--out-dir", type=Path, required=True)
    files.add_argument(
        "--service-user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="a cloud user (e.g. the ingest workers) that reads every tenant",
    )
    files.set_defaults(handler=mosquitto_files)


def station_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        validate_identifier(args.tenant, "tenant")
        validate_identifier(args.station, "station")
    except TopicError as exc:
        print(f"station add: {exc}")
        return 2
    problem = _unknown_tenant(settings.database_url, args.tenant)
    if problem:
        print(f"station add: {problem}")
        return 2
    password = args.password or secrets.token_urlsafe(24)
    hashed = mosquitto_hash(password, os.urandom(SALT_BYTES))
    store = open_store(settings.database_url)
    try:
        store.add_station(StationRecord(args.station, args.tenant, hashed))
    except StationExistsError as exc:
        print(f"station add: {exc}")
        return 1
    finally:
        store.close()
    print(f"# station {args.station} registered for tenant {args.tenant}")
    print("\n# --- edge agent configuration (labcal-edge TOML) ---")
    print(
        edge_config(
            args.tenant,
            args.station,
            password,
            host=args.broker_host,
            port=args.broker_port,
            ca_file=args.ca_file,
        ),
        end="",
    )
    print("\n# --- Mosquitto password file line ---")
    print(password_line(args.station, hashed))
    print("\n# --- Mosquitto ACL entries ---")
    print(acl_entries(args.tenant, args.station), end="")
    return 0


def _unknown_tenant(database_url: str, tenant: str) -> str:
    """Why ``tenant`` cannot own a station ('' when it can): it must be a customer tenant of the
    portal (its generated id), or ingest and the portal would never meet."""
    db = connect(database_url, pool_size=1)
    try:
        row = db.one("SELECT kind FROM portal_tenants WHERE id = ?", (tenant,))
        if row is not None:
            return "" if row[0] == "customer" else f"tenant {tenant} is the provider, not a lab"
        known = db.query(
            "SELECT id, name FROM portal_tenants WHERE kind = 'customer' ORDER BY name LIMIT 5"
        )
    finally:
        db.close()
    listed = ", ".join(f"{i} ({name})" for i, name in known) or "none yet"
    return (
        f"no lab tenant {tenant!r} in the portal; give the tenant's id as the portal shows it"
        f" (the id POST /api/v1/tenants answered). Labs: {listed}"
    )


def station_list(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.database_url)
    try:
        for r in store.list_stations(args.tenant):
            print(f"{r.tenant}\t{r.station}")
    finally:
        store.close()
    return 0


def mosquitto_files(args: argparse.Namespace, settings: Settings) -> int:
    service_lines, service_users = [], []
    for spec in args.service_user:
        name, sep, password = spec.partition(":")
        if not sep or not name or not password:
            print(f"mosquitto-files: --service-user wants NAME:PASSWORD, got {spec!r}")
            return 2
        service_users.append(name)
        service_lines.append(f"{name}:{mosquitto_hash(password, os.urandom(SALT_BYTES))}")
    store = open_store(settings.database_url)
    try:
        records = store.list_stations()
    finally:
        store.close()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    pw = args.out_dir / "passwords"
    pw.write_text(password_file(records, service_lines))
    pw.chmod(0o600)
    (args.out_dir / "acl").write_text(acl_file(records, service_users))
    print(f"wrote {pw} and {args.out_dir / 'acl'} ({len(records)} stations)")
    return 0
