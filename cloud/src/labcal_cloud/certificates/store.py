"""Certificates service over SQL: record a calibration, sign its certificate, look it up, export."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from labcal_cloud.accounts.errors import ConflictError, InvalidInputError, NotFoundError
from labcal_cloud.accounts.store import Accounts
from labcal_cloud.certificates.dcc import render_dcc
from labcal_cloud.certificates.dcc_signing import DccSigner
from labcal_cloud.certificates.document import build_document
from labcal_cloud.certificates.pdf import render_certificate
from labcal_cloud.certificates.profiles import CertificateProfiles
from labcal_cloud.certificates.signing import CertificateSigner
from labcal_cloud.db.gateway import Database, Row
from labcal_cloud.engine.decision_rules import SqlDecisionRules
from labcal_cloud.engine.errors import RecordRejectedError
from labcal_cloud.engine.record_codec import record_from_json
from labcal_cloud.engine.records import CalibrationRecord, record_from_run
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.engine.tolerance_tables import SqlToleranceTables
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.registry.store import Registry
from labcal_shared.contracts import GravimetricRun
from labcal_shared.iso8655.verdict import Verdict, verdict_label

__all__ = ["Calibration", "Certificates", "VolumePoint", "certificate_number"]

_COLS = (
    "id, tenant_id, device_id, performed_at, next_due, passed, operator, record_json, verify_code"
)


@dataclass(frozen=True)
class VolumePoint:
    volume_ul: float
    systematic_error_pct: float
    cv_pct: float
    mpe_systematic_pct: float
    mpe_cv_pct: float


@dataclass(frozen=True)
class Calibration:
    id: str
    tenant_id: str
    device_id: str
    performed_at: datetime
    next_due: date
    passed: bool
    operator: str
    verify_code: str
    number: str
    device: str
    serial: str
    volumes: tuple[VolumePoint, ...]
    verdict: Verdict  # the record's one verdict; ``passed`` is true only when conforming

    @property
    def verdict_label(self) -> str:
        return verdict_label(self.verdict)

    @property
    def state_class(self) -> str:
        """The portal's badge colour: green only for a conforming calibration."""
        return _STATE_CLASS[self.verdict]


_STATE_CLASS = {
    Verdict.CONFORMING: "green",
    Verdict.NOT_CONFORMING: "red",
    Verdict.CONFORMING_WITH_FINDING: "amber",
    Verdict.NOT_EVALUATED: "grey",
}


def certificate_number(record: CalibrationRecord) -> str:
    """``LC-20261207-1A2B3C4D``: the day of the run and the record id's first 8 hex digits."""
    return f"LC-{record.ended_at:%Y%m%d}-{record.record_id.hex[:8].upper()}"


def _calibration(r: Row) -> Calibration:
    doc = json.loads(r[7])
    points = tuple(VolumePoint(**v) for v in doc["volumes"])
    # certificates issued before verdicts existed: passed → conforming, else not conforming
    verdict = doc.get("verdict") or ("conforming" if r[5] else "not_conforming")
    return Calibration(
        r[0],
        r[1],
        r[2],
        datetime.fromisoformat(r[3]),
        date.fromisoformat(r[4]),
        bool(r[5]),
        r[6],
        r[8],
        doc["number"],
        doc["device"],
        doc["serial"],
        points,
        Verdict(verdict),
    )


class Certificates:
    def __init__(
        self,
        db: Database,
        runtime: Runtime,
        accounts: Accounts,
        registry: Registry,
        signer: CertificateSigner | None,
        provider: str,
        base_url: str,
    ) -> None:
        self._db, self._rt, self._accounts, self._registry = db, runtime, accounts, registry
        self._signer, self._provider, self._base_url = signer, provider, base_url
        self.profiles = CertificateProfiles(db, runtime)
        self._dcc_signer: DccSigner | None = None

    @property
    def signer(self) -> CertificateSigner:
        if self._signer is None:
            raise ConflictError(
                "no signing key configured (LABCAL_SIGNING_KEY/LABCAL_SIGNING_CERT)"
            )
        return self._signer

    @property
    def dcc_signer(self) -> DccSigner:
        """XML-DSig with the same key and certificate as the PDF's signature."""
        if self._dcc_signer is None:
            self._dcc_signer = DccSigner(self.signer.key_file, self.signer.cert_file)
        return self._dcc_signer

    def record(
        self,
        device_id: str,
        run: GravimetricRun,
        *,
        balance_traceability: str,
        balance_valid_until: datetime | None,
        interval_days: int = 365,
    ) -> Calibration:
        """Evaluate the run into the engine's calibration record, store it and :meth:`issue` its
        certificate in one transaction (the same record a station's run becomes in the
        pipeline, so the due state, the history and the certificate agree)."""
        if not 1 <= interval_days <= 3650:
            raise InvalidInputError("interval_days must be between 1 and 3650")
        tenant_id, _ = self._registry.tenant_of(device_id)
        try:
            record = record_from_run(
                run,
                record_id=uuid.UUID(self._rt.new_id()),
                recorded_at=self._rt.now(),
                balance_valid_until=balance_valid_until,
                rule=SqlDecisionRules(self._db).rule_for(tenant_id, run.pipette.serial),
                tolerance=SqlToleranceTables(self._db).table_for(
                    tenant_id, run.pipette.serial, run.mpe_edition
                ),
            )
        except RecordRejectedError as exc:
            raise InvalidInputError(str(exc)) from exc
        with self._db.transaction():
            calibration = self.issue(
                device_id,
                run,
                record,
                balance_traceability=balance_traceability,
                interval_days=interval_days,
            )
            SqlEngineRepository(self._db).save_record(tenant_id, None, record)
        return calibration

    def issue(
        self,
        device_id: str,
        run: GravimetricRun,
        record: CalibrationRecord,
        *,
        balance_traceability: str,
        interval_days: int,
    ) -> Calibration:
        """Render and sign the certificate of ``record`` (the engine's, evaluated from ``run``),
        store it under the record's id in one transaction with the device's new calibration
        date. Only a conforming calibration marks the device calibrated: any other verdict
        keeps the old date (the engine blocks the device, for review when the results were
        within limits), a quick check gets no certificate at all."""
        if record.kind != "calibration":
            raise InvalidInputError("a quick check is a check record, not a calibration")
        tenant_id, site_id = self._registry.tenant_of(device_id)
        device = self._registry.device(tenant_id, device_id)
        if (run.pipette.serial, run.pipette.model) != (device.serial, device.model):
            raise InvalidInputError(
                f"the run is for {run.pipette.model} {run.pipette.serial}, "
                f"not for {device.model} {device.serial}"
            )
        record_id = record.record_id
        code = self._rt.new_secret()[:20]
        next_due = record.ended_at.date() + timedelta(days=interval_days)
        number = certificate_number(record)
        customer = self.profiles.customer(tenant_id)
        site = self._accounts.site(tenant_id, site_id)
        doc = build_document(
            run,
            record,
            number=number,
            laboratory=self.profiles.issuer_for(tenant_id, self._provider),
            customer=self._accounts.tenant(tenant_id).name,
            customer_address=customer.address,
            site=site.name,
            site_address=site.address,
            balance_traceability=balance_traceability,
            issued_at=self._rt.now(),
            next_due=next_due if customer.next_due_on_certificate else None,
            verify_url=f"{self._base_url}/verify/{code}",
            as_found=self._as_found_of(tenant_id, record),
        )
        signed = self.signer.sign(render_certificate(doc))
        dcc = self.dcc_signer.sign(render_dcc(doc))
        summary = {
            "number": number,
            "device": doc.device,
            "serial": doc.serial,
            "verdict": record.verdict.value,
            "volumes": [
                {
                    "volume_ul": v.volume_ul,
                    "systematic_error_pct": v.systematic_error_pct,
                    "cv_pct": v.cv_pct,
                    "mpe_systematic_pct": 100 * v.mpe_systematic_ul / v.volume_ul,
                    "mpe_cv_pct": 100 * v.mpe_random_ul / v.volume_ul,
                }
                for v in doc.volumes
            ],
        }
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO portal_calibrations (id, tenant_id, device_id, performed_at, next_due,"
                " passed, operator, record_json, verify_code, pdf_sha256, pdf_b64, record_id,"
                " dcc_xml, dcc_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record_id.hex,
                    tenant_id,
                    device_id,
                    record.ended_at.isoformat(),
                    next_due.isoformat(),
                    int(record.conforming),
                    record.operator,
                    json.dumps(summary),
                    code,
                    hashlib.sha256(signed).hexdigest(),
                    base64.b64encode(signed).decode(),
                    str(record_id),
                    dcc.decode(),
                    hashlib.sha256(dcc).hexdigest(),
                ),
            )
            if record.conforming:
                self._registry.mark_calibrated(device_id, record.ended_at, interval_days)
        return self.get(tenant_id, record_id.hex)

    def _as_found_of(self, tenant_id: str, record: CalibrationRecord) -> CalibrationRecord | None:
        """For an as-left record: the latest as-found calibration of the same pipette before
        it (not after an earlier as-left one), whose results the certificate states too."""
        if record.phase != "as_left":
            return None
        p, rid = record.pipette, record.record_id
        rows = self._db.query(
            "SELECT phase, record_json FROM calibration_record WHERE tenant = ?"
            " AND pipette_serial = ? AND pipette_model = ? AND kind = 'calibration'"
            " AND ended_at <= ? AND record_id <> ? ORDER BY ended_at DESC LIMIT 1",
            (
                tenant_id,
                p.serial,
                p.model,
                self._db.at(record.ended_at),
                rid if self._db.is_postgres else str(rid),
            ),
        )
        if not rows or rows[0][0] != "as_found":
            return None
        raw = rows[0][1]
        return record_from_json(json.loads(raw) if isinstance(raw, str | bytes) else raw)

    def get(self, tenant_id: str, calibration_id: str) -> Calibration:
        row = self._db.one(
            f"SELECT {_COLS} FROM portal_calibrations WHERE id = ? AND tenant_id = ?",
            (calibration_id, tenant_id),
        )
        if row is None:
            raise NotFoundError("calibration not found")
        return _calibration(row)

    def history(self, tenant_id: str, device_id: str) -> list[Calibration]:
        rows = self._db.query(
            f"SELECT {_COLS} FROM portal_calibrations WHERE tenant_id = ? AND device_id = ?"
            " ORDER BY performed_at",
            (tenant_id, device_id),
        )
        return [_calibration(r) for r in rows]

    def pdf(self, tenant_id: str, calibration_id: str) -> tuple[Calibration, bytes]:
        row = self._db.one(
            f"SELECT {_COLS}, pdf_b64 FROM portal_calibrations WHERE id = ? AND tenant_id = ?",
            (calibration_id, tenant_id),
        )
        if row is None:
            raise NotFoundError("certificate not found")
        return _calibration(row), base64.b64decode(row[9])

    def dcc(self, tenant_id: str, calibration_id: str) -> tuple[Calibration, bytes]:
        """The signed DCC (XML) of a certificate."""
        row = self._db.one(
            f"SELECT {_COLS}, dcc_xml FROM portal_calibrations WHERE id = ? AND tenant_id = ?",
            (calibration_id, tenant_id),
        )
        if row is None:
            raise NotFoundError("certificate not found")
        if row[9] is None:
            raise NotFoundError("this certificate was issued before DCCs were written")
        return _calibration(row), str(row[9]).encode()

    def dcc_by_code(self, code: str) -> tuple[Calibration, bytes, str]:
        """The signed DCC by the certificate's verification code, with its stored hash."""
        row = self._db.one(
            f"SELECT {_COLS}, dcc_xml, dcc_sha256 FROM portal_calibrations WHERE verify_code = ?",
            (code,),
        )
        if row is None:
            raise NotFoundError("no certificate with this verification code")
        if row[9] is None:
            raise NotFoundError("this certificate was issued before DCCs were written")
        return _calibration(row), str(row[9]).encode(), str(row[10])

    def by_code(self, code: str) -> tuple[Calibration, str]:
        """The public view of a certificate by its verification code, with the stored hash."""
        row = self._db.one(
            f"SELECT {_COLS}, pdf_sha256 FROM portal_calibrations WHERE verify_code = ?", (code,)
        )
        if row is None:
            raise NotFoundError("no certificate with this verification code")
        return _calibration(row), row[9]

    def audit_export(self, tenant_id: str, start: date, end: date) -> bytes:
        """A ZIP of the signed certificates (PDF and DCC) performed in ``[start, end]`` plus an
        index CSV."""
        if end < start:
            raise InvalidInputError("the end date is before the start date")
        rows = self._db.query(
            f"SELECT {_COLS}, pdf_b64, pdf_sha256, dcc_xml FROM portal_calibrations"
            " WHERE tenant_id = ?"
            " AND performed_at >= ? AND performed_at < ? ORDER BY performed_at",
            (tenant_id, start.isoformat(), (end + timedelta(days=1)).isoformat()),
        )
        index = io.StringIO()
        writer = csv.writer(index)
        writer.writerow(
            [
                "certificate",
                "device",
                "serial",
                "performed_at",
                "result",
                "next_due",
                "operator",
                "sha256",
                "file",
                "dcc_file",
            ]
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for r in rows:
                c = _calibration(r)
                name = f"{c.number}.pdf"
                zf.writestr(name, base64.b64decode(r[9]))
                dcc_name = f"{c.number}.dcc.xml" if r[11] is not None else ""
                if dcc_name:
                    zf.writestr(dcc_name, str(r[11]).encode())
                writer.writerow(
                    [
                        c.number,
                        c.device,
                        c.serial,
                        c.performed_at.isoformat(),
                        c.verdict.value,
                        c.next_due.isoformat(),
                        c.operator,
                        r[10],
                        name,
                        dcc_name,
                    ]
                )
            zf.writestr("certificates.csv", index.getvalue())
        return out.getvalue()

    def pseudonymise_operator(self, name: str, user_id: str) -> None:
        """GDPR: records stay (legal duty); the person's name in them is replaced."""
        alias = "operator-" + hashlib.sha256(user_id.encode()).hexdigest()[:10]
        self._db.execute(
            "UPDATE portal_calibrations SET operator = ? WHERE operator = ?", (alias, name)
        )
