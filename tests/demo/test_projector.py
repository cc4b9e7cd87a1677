"""The projector on a real SQLite database: a stored calibration run becomes a signed calibration
record once; a run for an unknown device is set aside with its reason, not retried; usage reports
become usage weeks."""

from __future__ import annotations

import json
from pathlib import Path

from labcal_cloud.accounts.model import Role
from labcal_cloud.db.gateway import Database
from labcal_cloud.demo.projector import Projector
from labcal_cloud.demo.world import write_signing_pair
from labcal_cloud.portal.app import build_services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.registry.store import OrderItem
from labcal_cloud.storage.factory import open_store

ROOT = Path(__file__).resolve().parents[2]


def _insert_run(db: Database, message_id: str, tenant: str, payload: dict[str, object]) -> None:
    pipette = payload["pipette"]
    assert isinstance(pipette, dict)
    db.execute(
        "INSERT INTO runs (message_id, tenant, station, run_id, mode, pipette_make, pipette_model,"
        " pipette_serial, balance_serial, nominal_volume_ul, started_at, ended_at, payload_json)"
        " VALUES (?, ?, 'st1', ?, 'calibration', ?, ?, ?, 'B1', 1000, ?, ?, ?)",
        (message_id, tenant, payload["run_id"], pipette["make"], pipette["model"],
         pipette["serial"], payload["started_at"], payload["ended_at"], json.dumps(payload)),
    )  # fmt: skip


def test_runs_become_signed_records_once_and_unknown_devices_are_set_aside(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    store = open_store(url)
    store.migrate()
    store.close()
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    write_signing_pair(key, cert, "Test Provider")
    settings = PortalSettings(
        database_url=url, signing_key=key, signing_cert=cert, fast_password_hashing=True
    )
    s = build_services(settings)
    lab = s.accounts.create_tenant("Lab")
    s.accounts.create_user(lab.id, "qa@lab.example", "QA", Role.LAB_ADMIN, "pw-long-enough-1")
    site = s.accounts.create_site(lab.id, "Site")
    payload = json.loads((ROOT / "docs/examples/gravimetric_run.json").read_text())["payload"]
    ident = payload["pipette"]
    device = s.registry.add(
        lab.id, site.id, OrderItem(ident["make"], ident["model"], ident["serial"])
    )
    _insert_run(s.db, "m-1", lab.id, payload)
    stranger = dict(payload, pipette=dict(ident, serial="NOT-REGISTERED"))
    _insert_run(s.db, "m-2", lab.id, stranger)
    for serial, total, at in (("P0001", 12, "2026-11-16T10:00:00+00:00"),
                              ("P0001", 30, "2026-11-23T10:00:00+00:00")):  # fmt: skip
        s.db.execute(
            "INSERT INTO usage_reports (message_id, tenant, station, device_make, device_model,"
            " device_serial, time, cycles_total, cycles_since_service, trigger)"
            " VALUES (?, ?, 'st1', 'LabCal', 'LP-1000', ?, ?, ?, ?, 'change')",
            (f"u-{total}", lab.id, serial, at, total, total),
        )
    projector = Projector(s, "test balance")
    first = projector.project()
    assert first.certificates == (device.id,)
    assert first.rejected_runs == 1
    assert first.usage_devices == 1
    again = projector.project()
    assert (again.certificates, again.rejected_runs, again.usage_devices) == ((), 0, 0)
    [record] = s.certificates.history(lab.id, device.id)
    _, pdf = s.certificates.pdf(lab.id, record.id)
    assert s.certificates.signer.verify(pdf).valid
    reasons: dict[str, str] = dict(s.db.query("SELECT key, detail FROM demo_projection"))
    assert reasons["m-1"] == record.id
    assert reasons["m-2"].startswith("no registered device")
    weeks = {str(w): n for w, n in s.registry.usage_weeks(lab.id, device.id)}
    assert weeks == {"2026-11-16": 12, "2026-11-23": 18}
    s.db.close()
