"""Registry service over SQL: order devices with claim codes, claim, manual add, CSV import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from labcal_cloud.accounts.errors import ConflictError, InvalidInputError, NotFoundError
from labcal_cloud.db.gateway import Database, Row
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.registry.csv_import import RowError, parse_device_csv
from labcal_cloud.registry.model import Device, DueState, DueView, engine_due, not_computed_due

__all__ = [
    "DEVICE_COLUMNS",
    "ENGINE_JOIN",
    "DeviceLine",
    "ImportResult",
    "OrderItem",
    "OrderSummary",
    "Registry",
    "day_of",
    "device_from_row",
]

RANKED = (
    DueState.BLOCKED,
    DueState.OVERDUE,
    DueState.DUE,
    DueState.DUE_SOON,
    DueState.UNKNOWN,
    DueState.OK,
)
# The engine's stored state (``device_due_state``, written by ``labcal-cloud engine due`` for
# every registered device) is the one due state; it carries the registry's device id. A device
# the engine has not computed yet ranks (and shows) as unknown.
ENGINE_JOIN = " LEFT JOIN device_due_state e ON e.device_id = d.id AND e.tenant = d.tenant_id"
ENGINE_RANK = " ".join(f"WHEN '{state.value}' THEN {RANKED.index(state)}" for state in RANKED)
RANK = f"CASE e.status {ENGINE_RANK} ELSE {RANKED.index(DueState.UNKNOWN)} END"


@dataclass(frozen=True, slots=True)
class OrderSummary:
    order_ref: str
    devices: int
    claimed: int


def day_of(value: object) -> date:
    """A stored date or time (PostgreSQL: date/datetime; SQLite: ISO text) as a date; a time
    with a zone is taken in UTC (as the engine stores it), whatever the session's time zone."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (at.astimezone(UTC) if at.tzinfo is not None else at).date()


def due_date_of(calibrated: datetime, interval_days: int) -> str:
    return (calibrated.date() + timedelta(days=interval_days)).isoformat()


DEVICE_COLUMNS = _COLS = (
    "id, tenant_id, site_id, make, model, serial, nominal_volume_ul, claim_code, registered_at,"
    " interval_days, last_calibrated_at, usage_cycles, cycles_limit"
)


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def device_from_row(r: Row) -> Device:
    return Device(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        float(r[6]),
        r[7],
        _dt(r[8]),
        int(r[9]),
        _dt(r[10]),
        int(r[11]),
        int(r[12]),
    )


@dataclass(frozen=True)
class OrderItem:
    make: str
    model: str
    serial: str
    nominal_volume_ul: float = 0.0


@dataclass(frozen=True)
class DeviceLine:
    device: Device
    due: DueView
    site_name: str


@dataclass(frozen=True)
class ImportResult:
    added: int
    errors: list[RowError]


class Registry:
    def __init__(self, db: Database, runtime: Runtime) -> None:
        self._db = db
        self._rt = runtime

    # -- provider side: devices sold with claim codes ------------------------------------------
    def create_order(self, order_ref: str, items: Sequence[OrderItem]) -> list[Device]:
        created = []
        with self._db.transaction():
            for item in items:
                device_id, code = self._rt.new_id(), self._rt.new_secret()[:16]
                self._insert(device_id, None, None, item, code, order_ref, None)
                created.append(self._get(device_id))
        return created

    def order_devices(self, order_ref: str) -> list[Device]:
        rows = self._db.query(
            f"SELECT {_COLS} FROM portal_devices WHERE order_ref = ? ORDER BY serial", (order_ref,)
        )
        return [device_from_row(r) for r in rows]

    def orders(self) -> list[OrderSummary]:
        """The provider's orders, newest reference first: devices sold and how many are claimed."""
        rows = self._db.query(
            "SELECT order_ref, COUNT(*), COUNT(tenant_id) FROM portal_devices"
            " WHERE order_ref <> '' GROUP BY order_ref ORDER BY order_ref DESC"
        )
        return [OrderSummary(r[0], int(r[1]), int(r[2])) for r in rows]

    # -- customer side ------------------------------------------------------------------------
    def by_claim_code(self, code: str) -> Device:
        row = self._db.one(f"SELECT {_COLS} FROM portal_devices WHERE claim_code = ?", (code,))
        if row is None:
            raise NotFoundError("unknown claim code")
        return device_from_row(row)

    def claim(self, tenant_id: str, code: str, site_id: str) -> Device:
        self._check_site(tenant_id, site_id)
        with self._db.transaction():
            device = self.by_claim_code(code)
            if device.tenant_id == tenant_id:
                return device  # claiming twice is harmless
            if device.tenant_id is not None:
                raise ConflictError("this device is registered to another organisation")
            self._db.execute(
                "UPDATE portal_devices SET tenant_id = ?, site_id = ?, registered_at = ?"
                " WHERE id = ? AND tenant_id IS NULL",
                (tenant_id, site_id, self._rt.now().isoformat(), device.id),
            )
            return self._get(device.id)

    def add(self, tenant_id: str, site_id: str, item: OrderItem) -> Device:
        """Manual add by serial and model; a sold, unclaimed device of that identity is claimed."""
        if not (item.serial.strip() and item.model.strip() and item.make.strip()):
            raise InvalidInputError("serial, make and model are required")
        self._check_site(tenant_id, site_id)
        with self._db.transaction():
            row = self._db.one(
                "SELECT id, tenant_id FROM portal_devices"
                " WHERE make = ? AND model = ? AND serial = ?",
                (item.make.strip(), item.model.strip(), item.serial.strip()),
            )
            if row is not None:
                if row[1] is not None:
                    raise ConflictError(f"device {item.serial} is already registered")
                self._db.execute(
                    "UPDATE portal_devices SET tenant_id = ?, site_id = ?, registered_at = ?"
                    " WHERE id = ?",
                    (tenant_id, site_id, self._rt.now().isoformat(), row[0]),
                )
                return self._get(row[0])
            device_id = self._rt.new_id()
            self._insert(device_id, tenant_id, site_id, item, None, "", self._rt.now())
            return self._get(device_id)

    def import_csv(self, tenant_id: str, text: str, default_site_id: str) -> ImportResult:
        rows, errors = parse_device_csv(text)
        sites: dict[str, str] = dict(
            self._db.query(
                "SELECT lower(name), id FROM portal_sites WHERE tenant_id = ?", (tenant_id,)
            )
        )
        added = 0
        for row in rows:
            site_id = sites.get(row.site.lower()) if row.site else default_site_id
            if site_id is None:
                errors.append(RowError(row.line, f"unknown site {row.site!r}"))
                continue
            try:
                self.add(
                    tenant_id,
                    site_id,
                    OrderItem(row.make, row.model, row.serial, row.nominal_volume_ul),
                )
                added += 1
            except (ConflictError, InvalidInputError, NotFoundError) as exc:
                errors.append(RowError(row.line, str(exc)))
        return ImportResult(added, sorted(errors, key=lambda e: e.line))

    def device(self, tenant_id: str, device_id: str) -> Device:
        row = self._db.one(
            f"SELECT {_COLS} FROM portal_devices WHERE id = ? AND tenant_id = ?",
            (device_id, tenant_id),
        )
        if row is None:
            raise NotFoundError("device not found")
        return device_from_row(row)

    def tenant_of(self, device_id: str) -> tuple[str, str]:
        """``(tenant_id, site_id)`` of a registered device (provider-side lookups)."""
        row = self._db.one(
            "SELECT tenant_id, site_id FROM portal_devices WHERE id = ?", (device_id,)
        )
        if row is None or row[0] is None or row[1] is None:
            raise NotFoundError("device not found or not registered to a customer")
        return row[0], row[1]

    def overview(
        self,
        tenant_id: str,
        today: date,
        site_id: str | None = None,
        state: DueState | None = None,
    ) -> list[DeviceLine]:
        sql = (
            f"SELECT {', '.join('d.' + c.strip() for c in _COLS.split(','))}, s.name"
            " FROM portal_devices d JOIN portal_sites s ON s.id = d.site_id WHERE d.tenant_id = ?"
        )
        params: list[object] = [tenant_id]
        if site_id:
            sql += " AND d.site_id = ?"
            params.append(site_id)
        lines = []
        engine = self._engine_states(tenant_id, None)
        for r in self._db.query(sql + " ORDER BY s.name, d.serial", params):
            device = device_from_row(r)
            due = self._due(device, engine)
            if state is None or due.state == state:
                lines.append(DeviceLine(device, due, r[13]))
        return lines

    def overview_page(
        self, tenant_id: str, today: date, site_id: str | None = None,
        state: DueState | None = None, limit: int = 100, offset: int = 0,
    ) -> tuple[list[DeviceLine], dict[DueState, int]]:  # fmt: skip
        """One page of the overview (most urgent first, then earliest due) and the count per
        state, ranked in SQL on the engine's stored states (``today`` is not needed: the
        engine's state is shown as stored), so only the page is built in Python."""
        rank = RANK
        where, params = "d.tenant_id = ?", [tenant_id]
        if site_id:
            where += " AND d.site_id = ?"
            params.append(site_id)
        counts = {
            RANKED[int(r[0])]: int(r[1])
            for r in self._db.query(
                f"SELECT {rank} AS rank, COUNT(*) FROM portal_devices d{ENGINE_JOIN}"
                f" WHERE {where}"
                " GROUP BY rank",
                params,
            )
        }
        # step 1: the page's ids, ranked on the engine's states
        sql = f"SELECT d.id FROM portal_devices d{ENGINE_JOIN} WHERE {where}"
        id_params: list[object] = list(params)
        if state is not None:
            sql += f" AND {rank} = ?"
            id_params += [RANKED.index(state)]
        sql += f" ORDER BY {rank}, e.due_at, d.serial, d.id LIMIT ? OFFSET ?"
        id_params += [limit, offset]
        ids = [r[0] for r in self._db.query(sql, id_params)]
        if not ids:
            return [], counts
        # step 2: only those rows, with their site names
        cols = ", ".join("d." + c.strip() for c in _COLS.split(","))
        rows = {
            r[0]: r
            for r in self._db.query(
                f"SELECT {cols}, s.name FROM portal_devices d JOIN portal_sites s"
                f" ON s.id = d.site_id WHERE d.id IN ({', '.join('?' * len(ids))})",
                ids,
            )
        }
        engine = self._engine_states(tenant_id, ids)
        lines = []
        for device_id in ids:
            device = device_from_row(rows[device_id])
            lines.append(DeviceLine(device, self._due(device, engine), rows[device_id][13]))
        return lines, counts

    def due_view(self, tenant_id: str, device: Device, today: date) -> DueView:
        """The engine's due state and forecast of ``device`` (unknown until it computed it)."""
        return self._due(device, self._engine_states(tenant_id, [device.id]))

    @staticmethod
    def _due(device: Device, engine: dict[str, tuple[str, date, str, str | None]]) -> DueView:
        if device.id in engine:
            return engine_due(device, *engine[device.id])
        return not_computed_due(device)

    def _engine_states(
        self, tenant_id: str, device_ids: Sequence[str] | None
    ) -> dict[str, tuple[str, date, str, str | None]]:
        """The engine's stored due states (with the forecast's reason) by registry device id,
        for these devices (all of the tenant's with ``None``)."""
        if device_ids is not None and not device_ids:
            return {}
        only = (
            ""
            if device_ids is None
            else f" AND e.device_id IN ({', '.join('?' * len(device_ids))})"
        )
        return {
            r[0]: (r[1], day_of(r[2]), r[3], r[4])
            for r in self._db.query(
                "SELECT e.device_id, e.status, e.due_at, e.reason, f.reason"
                " FROM device_due_state e LEFT JOIN maintenance_forecast f"
                " ON f.device_id = e.device_id"
                f" WHERE e.tenant = ? AND e.device_id IS NOT NULL{only}",
                [tenant_id, *(device_ids or ())],
            )
        }

    def update_usage(self, tenant_id: str, device_id: str, cycles: int, week_start: date) -> None:
        device = self.device(tenant_id, device_id)
        if cycles < 0:
            raise InvalidInputError("cycles must not be negative")
        # usage counts since the last calibration (weeks starting on or after its day)
        since = device.last_calibrated_at.date().isoformat() if device.last_calibrated_at else ""
        with self._db.transaction():
            self._db.execute(
                "DELETE FROM portal_usage_weeks WHERE device_id = ? AND week_start = ?",
                (device.id, week_start.isoformat()),
            )
            self._db.execute(
                "INSERT INTO portal_usage_weeks (device_id, week_start, cycles) VALUES (?, ?, ?)",
                (device.id, week_start.isoformat(), cycles),
            )
            self._db.execute(
                "UPDATE portal_devices SET usage_cycles = (SELECT COALESCE(SUM(cycles), 0)"
                " FROM portal_usage_weeks WHERE device_id = ? AND week_start >= ?) WHERE id = ?",
                (device.id, since, device.id),
            )

    def usage_weeks(self, tenant_id: str, device_id: str) -> list[tuple[date, int]]:
        device = self.device(tenant_id, device_id)
        rows = self._db.query(
            "SELECT week_start, cycles FROM portal_usage_weeks WHERE device_id = ?"
            " ORDER BY week_start",
            (device.id,),
        )
        return [(date.fromisoformat(r[0]), int(r[1])) for r in rows]

    def mark_calibrated(self, device_id: str, at: datetime, interval_days: int) -> None:
        self._db.execute(
            "UPDATE portal_devices SET last_calibrated_at = ?, interval_days = ?, usage_cycles = 0,"
            " due_date = ? WHERE id = ?",
            (at.isoformat(), interval_days, due_date_of(at, interval_days), device_id),
        )

    # -- helpers -------------------------------------------------------------------------------
    def _check_site(self, tenant_id: str, site_id: str) -> None:
        if not self._db.one(
            "SELECT 1 FROM portal_sites WHERE id = ? AND tenant_id = ?", (site_id, tenant_id)
        ):
            raise NotFoundError("site not found")

    def _get(self, device_id: str) -> Device:
        row = self._db.one(f"SELECT {_COLS} FROM portal_devices WHERE id = ?", (device_id,))
        assert row is not None
        return device_from_row(row)

    def _insert(
        self,
        device_id: str,
        tenant_id: str | None,
        site_id: str | None,
        item: OrderItem,
        code: str | None,
        order_ref: str,
        registered: datetime | None,
    ) -> None:
        if self._db.one(
            "SELECT 1 FROM portal_devices WHERE make = ? AND model = ? AND serial = ?",
            (item.make, item.model, item.serial),
        ):
            raise ConflictError(f"device {item.make} {item.model} {item.serial} exists")
        self._db.execute(
            "INSERT INTO portal_devices (id, tenant_id, site_id, make, model, serial,"
            " nominal_volume_ul, claim_code, order_ref, registered_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                device_id,
                tenant_id,
                site_id,
                item.make.strip(),
                item.model.strip(),
                item.serial.strip(),
                item.nominal_volume_ul,
                code,
                order_ref,
                registered.isoformat() if registered else None,
            ),
        )
