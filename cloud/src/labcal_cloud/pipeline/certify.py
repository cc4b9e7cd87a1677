"""Pipeline stage: every calibration record of a registered device gets its signed certificate.

A record (the engine's ``calibration_record``, immutable) of kind ``calibration`` whose pipette
is registered in the record's tenant (same model and serial) and that has no certificate yet is
rendered, signed and stored by :meth:`Certificates.issue` under the record's id; only a
conforming one marks the device calibrated and completes a booking of that device made before
the run (any other verdict leaves the device as it was: the engine blocks it).
Records of pipettes not registered (yet) wait: they are certified once the device is
registered. Quick checks are check records and never get a certificate. A record that cannot be
certified (the run does not match the device…) is reported and tried again on the next pass
only after a restart (it is remembered in memory, so one bad record does not stall the rest).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from labcal_cloud.accounts.errors import PortalError
from labcal_cloud.certificates.store import Calibration, Certificates
from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.record_codec import record_from_json
from labcal_cloud.engine.records import CalibrationRecord
from labcal_shared.contracts import GravimetricRun

__all__ = ["BookingCompleter", "CertifyResult", "Issued", "balance_traceability", "certify"]

log = logging.getLogger(__name__)

_PENDING = """
SELECT c.record_json, r.payload_json, d.id, d.interval_days
FROM calibration_record c
JOIN runs r ON r.message_id = c.run_message_id
JOIN portal_devices d
  ON d.tenant_id = c.tenant AND d.serial = c.pipette_serial AND d.model = c.pipette_model
WHERE c.kind = 'calibration'
  AND NOT EXISTS (SELECT 1 FROM portal_calibrations p
                  WHERE p.record_id = CAST(c.record_id AS TEXT))
ORDER BY c.ended_at, c.record_id
LIMIT ?
"""


class BookingCompleter(Protocol):
    def complete_for_device(self, tenant_id: str, device_id: str, at: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class Issued:
    calibration: Calibration
    record: CalibrationRecord

    def describe(self) -> str:
        c = self.calibration
        return f"certificate {c.number} signed for {c.device} {c.serial} ({c.verdict_label})"


@dataclass(frozen=True, slots=True)
class CertifyResult:
    issued: tuple[Issued, ...]
    failed: tuple[str, ...]  # record ids that could not be certified, with the reason


def balance_traceability(record: CalibrationRecord) -> str:
    """What the certificate says about the balance, from what the engine knew of it."""
    b = record.balance
    state = {
        True: "within its own calibration at the time of the run",
        False: "outside its own calibration at the time of the run",
        None: "its own calibration is not on record with LabCal",
    }[record.balance_in_calibration]
    return f"balance {b.make} {b.model} {b.serial}: {state}"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def certify(
    db: Database,
    certificates: Certificates,
    bookings: BookingCompleter | None,
    *,
    skip: set[str],
    batch: int = 50,
) -> CertifyResult:
    """Certify every pending record (in batches); ``skip`` holds record ids that failed before
    and is updated with new failures."""
    issued: list[Issued] = []
    failed: list[str] = []
    while True:
        rows = db.query(_PENDING, (batch + len(skip),))
        todo = [(r, record_from_json(_json(r[0]))) for r in rows]
        todo = [(r, rec) for r, rec in todo if str(rec.record_id) not in skip]
        if not todo:
            break
        for (_, payload, device_id, interval_days), record in todo[:batch]:
            try:
                run = GravimetricRun.model_validate(_json(payload))
                calibration = certificates.issue(
                    str(device_id),
                    run,
                    record,
                    balance_traceability=balance_traceability(record),
                    interval_days=int(interval_days),
                )
            except PortalError as exc:
                skip.add(str(record.record_id))
                failed.append(f"{record.pipette.model} {record.pipette.serial}: {exc}")
                log.warning("record %s not certified: %s", record.record_id, exc)
                continue
            if record.conforming and bookings is not None:  # bookings made before the run end
                bookings.complete_for_device(calibration.tenant_id, str(device_id), record.ended_at)
            issued.append(Issued(calibration, record))
    return CertifyResult(tuple(issued), tuple(failed))
