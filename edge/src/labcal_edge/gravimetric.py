"""The guided gravimetric run (ISO 8655-6) and the quick check: one workflow, two modes.

Steps: identify the pipette (smart pipette, scanned label or typed), record the environment
(sensor or typed), then per test volume and channel (each channel of a multichannel pipette is
weighed on its own; a connected pipette says how many it has, else ``channels`` in the script):
tare, the four evaporation weighings without delivery,
and the replicates — each waits for a stable weight (with a timeout and an offer to retry); a
replicate far from the expected mass is repeated only when the operator confirms. A weight the
balance marks unstable is never used as a mass: the balance is asked again (up to
``_UNSTABLE_ASKS`` times), then the operator is told and decides (retry or abort). Every stable
reading is published as a :class:`Reading` of the run as it is taken; at the end the local result
(:func:`labcal_shared.iso8655.evaluate_contract_run`) is shown and the whole run is published as one
:class:`GravimetricRun`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import TypeVar

from pydantic import ValidationError

from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.drivers.pipette import PipetteDriver
from labcal_edge.drivers.scanner import ScannerDriver
from labcal_edge.drivers.sensor import SensorDriver
from labcal_edge.emitter import Emitter, Outgoing
from labcal_edge.errors import (
    DeviceTimeoutError,
    DeviceUnavailableError,
    OutboxFullError,
    RunAbortedError,
)
from labcal_edge.operator_io import Operator
from labcal_edge.readings import reading_payload
from labcal_shared.contracts import (
    DeviceRef,
    DeviceType,
    EnvironmentSample,
    EvaporationWeighings,
    GravimetricRun,
    MeasuringInstrument,
    Reading,
    RunMode,
    TestVolume,
    Tip,
)
from labcal_shared.errors import Iso8655Error
from labcal_shared.iso8655 import RunResult, evaluate_contract_run
from labcal_shared.protocols import WeightReading, to_mg

__all__ = ["GravimetricWorkflow", "RunOutcome", "default_volumes", "expected_mass_mg"]

T = TypeVar("T")
_REOPEN_POLL_S = 0.2
_UNSTABLE_ASKS = 3  # unstable answers to a stable weighing before the operator is asked
_WATER_MG_PER_UL = 0.9982  # near 20 °C; only for spotting outliers, never for the result


def default_volumes(nominal_ul: float, mode: RunMode) -> list[float]:
    """100 %, 50 %, 10 % of nominal for a calibration; 100 % and 10 % for a quick check."""
    shares = (1.0, 0.1) if mode is RunMode.QUICK_CHECK else (1.0, 0.5, 0.1)
    return [round(nominal_ul * s, 6) for s in shares]


def expected_mass_mg(volume_ul: float) -> float:
    return volume_ul * _WATER_MG_PER_UL


def readability_mg_of(value: Decimal, unit: str) -> float:
    """The balance's display step in mg, from the decimal places it printed (``100.00 g`` → 10)."""
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    return float(to_mg(Decimal(1).scaleb(-places), unit or "g"))


def is_outlier(mass_mg: float, volume_ul: float, limit_pct: float) -> bool:
    expected = expected_mass_mg(volume_ul)
    return abs(mass_mg - expected) > expected * limit_pct / 100.0


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """The run as measured, and its local result (``None`` when ISO 8655 refused the input)."""

    run: GravimetricRun
    result: RunResult | None

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed


@dataclass
class StationIO:
    """What the workflow talks to; ``pipette``, ``scanner``, ``sensor`` are optional."""

    balance: BalanceDriver
    balance_ref: DeviceRef
    pipette: PipetteDriver | None = None
    scanner: ScannerDriver | None = None
    sensor: SensorDriver | None = None


class GravimetricWorkflow:
    def __init__(
        self,
        io: StationIO,
        operator: Operator,
        emitter: Emitter,
        *,
        stable_timeout_s: float = 30.0,
        outlier_limit_pct: float = 5.0,
        readability_mg: float | None = None,
        mpe_edition: str = "ISO 8655-2:2002",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.io = io
        self.op = operator
        self.emitter = emitter
        self.stable_timeout_s = stable_timeout_s
        self.outlier_limit_pct = outlier_limit_pct
        self.readability_mg = readability_mg
        self.mpe_edition = mpe_edition
        self._now = now
        self.run_id = uuid.uuid4()
        self.channels = 1  # a connected pipette says how many it has; else the script does
        self.unstable_rejected = 0  # unstable answers to stable weighings, never used as masses

    # -- steps ---------------------------------------------------------------------------------

    def identify_pipette(self) -> tuple[DeviceRef, float]:
        if self.io.pipette is not None:
            ident = self.io.pipette.identify()
            self.channels = max(1, ident.channels)
            nominal = self.io.pipette.volume().nominal_ul
            ref = DeviceRef(
                type=DeviceType.PIPETTE, make=ident.make, model=ident.model, serial=ident.serial
            )
            self.op.say(
                f"Pipette (connected): {ref.make} {ref.model} #{ref.serial}, {nominal:g} µL"
            )
            return ref, nominal
        if self.io.scanner is not None:
            self.op.act("scan", "Scan the label of the pipette")
            scan = self.io.scanner.next_scan(timeout=self.stable_timeout_s)
            if scan is not None and scan[1] is not None:
                label = scan[1]
                ref = DeviceRef(
                    type=DeviceType.PIPETTE, make=label.make, model=label.model, serial=label.serial
                )
                self.op.say(f"Pipette (scanned): {ref.make} {ref.model} #{ref.serial}")
                nominal = float(self.op.ask("nominal_ul", "Nominal volume (µL)"))
                return ref, nominal
            self.op.say("No LabCal label scanned; enter the pipette by hand.")
        ref = DeviceRef(
            type=DeviceType.PIPETTE,
            make=self.op.ask("pipette_make", "Pipette make"),
            model=self.op.ask("pipette_model", "Pipette model"),
            serial=self.op.ask("pipette_serial", "Pipette serial number"),
        )
        return ref, float(self.op.ask("nominal_ul", "Nominal volume (µL)"))

    def record_environment(self) -> EnvironmentSample:
        at = self._now()
        if self.io.sensor is not None:
            c = self.io.sensor.measure()
            sample = EnvironmentSample(
                at=at,
                air_temp_c=c.air_temp_c,
                water_temp_c=c.water_temp_c,
                pressure_kpa=c.pressure_kpa,
                humidity_pct=c.humidity_pct,
            )
        else:
            sample = EnvironmentSample(
                at=at,
                air_temp_c=float(self.op.ask("air_temp_c", "Air temperature (°C)")),
                water_temp_c=float(self.op.ask("water_temp_c", "Water temperature (°C)")),
                pressure_kpa=float(self.op.ask("pressure_kpa", "Air pressure (kPa)")),
                humidity_pct=float(self.op.ask("humidity_pct", "Relative humidity (%)")),
            )
        self.op.say(
            f"Environment: air {sample.air_temp_c:.2f} °C, water {sample.water_temp_c:.2f} °C, "
            f"{sample.pressure_kpa:.2f} kPa, {sample.humidity_pct:.1f} %RH"
        )
        return sample

    def _retrying(self, what: str, action: Callable[[], T]) -> T:
        """Run a balance action; on a stability timeout, the operator decides: retry or abort."""
        while True:
            try:
                return action()
            except DeviceTimeoutError as exc:
                self.op.say(f"  {what}: {exc}")
                if self.op.confirm("retry_unstable", "  Weight not stable. Try again?", True):
                    continue
                raise RunAbortedError(f"{what}: no stable weight") from None
            except DeviceUnavailableError as exc:
                self.op.say(f"  {what}: the balance is not available ({exc})")
                if not self.op.confirm(
                    "retry_unavailable",
                    "  Reconnect the balance (the vessel stays on it). Retry?",
                    True,
                ):
                    raise RunAbortedError(f"{what}: balance not available") from None
                self._reopen_balance()

    def _emit_reading(self, payload: Reading) -> None:
        self.emitter.emit(payload, device=self.io.balance_ref)

    def _store(self, what: str, store: Callable[[], object]) -> None:
        """Commit to the outbox; while it is full the operator is told and decides (the value
        stays in memory: retried as it is, not weighed again)."""
        while True:
            try:
                store()
                return
            except OutboxFullError as exc:
                self.op.say(f"  {what}: NOT STORED, {exc}")
                self.op.say("  Free disk space or let the agent deliver, then try again.")
                if not self.op.confirm("retry_outbox_full", "  Outbox full. Try again?", False):
                    raise RunAbortedError(f"{what}: the outbox is full") from None

    def _reopen_balance(self) -> None:
        """Reopen the balance port, for up to ``stable_timeout_s`` (a replug takes a moment)."""
        deadline = time.monotonic() + self.stable_timeout_s
        while True:
            try:
                self.io.balance.link.open()
            except DeviceUnavailableError:
                if time.monotonic() >= deadline:
                    return  # the next attempt fails again and the operator is asked again
                time.sleep(_REOPEN_POLL_S)
                continue
            self.op.say("  balance reconnected")
            return

    def _stable_reading(self) -> WeightReading:
        """A stable (or over/underload) reading; :class:`DeviceTimeoutError` after
        ``_UNSTABLE_ASKS`` unstable answers in a row (whatever the driver promised)."""
        for _ in range(_UNSTABLE_ASKS):
            reading = self.io.balance.weigh(stable=True, timeout=self.stable_timeout_s)
            if reading.stable or not reading.in_range:
                return reading
            self.unstable_rejected += 1
        raise DeviceTimeoutError(
            f"the balance answered {_UNSTABLE_ASKS} times with an unstable weight "
            f"(last {reading.value} {reading.unit})"
        )

    def stable_mg(self, what: str) -> float:
        """A stable reading in mg (published as a reading of this run); retry on timeout."""
        while True:
            reading = self._retrying(what, self._stable_reading)
            self._store(what, partial(self._emit_reading, reading_payload(reading, self.run_id)))
            if reading.value is None:
                self.op.say(
                    f"  {what}: balance reports {'over' if reading.overload else 'under'}"
                    "load; check the pan"
                )
                self.op.act("fix_range", "  Fix the balance load")
                continue
            if self.readability_mg is None:
                self.readability_mg = readability_mg_of(reading.value, reading.unit)
            return float(reading.to_mg())

    def evaporation(self) -> EvaporationWeighings:
        """Four weighings without delivery (ISO 8655-6 9.1): m00, m0, then mn, mn1."""
        self.op.say("  Evaporation weighings (no liquid delivered)")
        values = []
        for name in ("m00", "m0", "mn", "mn1"):
            values.append(self.stable_mg(name))
        self.op.say("  evaporation: " + ", ".join(f"{v:.4f} mg" for v in values))
        return EvaporationWeighings(
            m00_mg=values[0], m0_mg=values[1], mn_mg=values[2], mn1_mg=values[3]
        )

    def test_volume(
        self, volume_ul: float, replicates: int, deliver: Callable[[], None], channel: int = 1
    ) -> TestVolume:
        of = f", channel {channel} of {self.channels}" if self.channels > 1 else ""
        self.op.say(f"Test volume {volume_ul:g} µL{of} — {replicates} replicates")
        if self.io.pipette is not None:
            self.io.pipette.volume(volume_ul)
        self._retrying("tare", lambda: self.io.balance.tare(timeout=self.stable_timeout_s))
        evaporation = self.evaporation()
        masses: list[float] = []
        before = self.stable_mg("before replicate 1")
        while len(masses) < replicates:
            n = len(masses) + 1
            self.op.act("deliver", f"  Replicate {n}/{replicates}: deliver {volume_ul:g} µL{of}")
            deliver()
            after = self.stable_mg(f"replicate {n}")
            mass = after - before
            before = after
            if is_outlier(mass, volume_ul, self.outlier_limit_pct):
                self.op.say(
                    f"  replicate {n}: {mass:.4f} mg is more than "
                    f"{self.outlier_limit_pct:g} % from {expected_mass_mg(volume_ul):.1f} mg"
                )
                if self.op.confirm("repeat_outlier", "  Repeat this replicate?", False):
                    continue
            masses.append(mass)
            mean = sum(masses) / len(masses)
            self.op.say(f"  replicate {n}/{replicates}: {mass:.4f} mg (mean {mean:.4f} mg)")
        return TestVolume(
            volume_ul=volume_ul, channel=channel, masses_mg=masses, evaporation=evaporation
        )

    # -- the whole run -------------------------------------------------------------------------

    def traceability(self) -> tuple[Tip | None, list[MeasuringInstrument]]:
        """The tip and the measuring instruments (with their certificates) from the run's
        settings (``tip = {make, model, lot}``, ``[[instruments]]``), checked before anything
        is weighed."""
        tip, instruments = self.op.setting("tip", None), self.op.setting("instruments", [])
        try:
            checked = (
                None if tip is None else Tip.model_validate(tip),
                [MeasuringInstrument.model_validate(i) for i in instruments],
            )
        except ValidationError as exc:
            raise RunAbortedError(f"tip/instruments settings: {exc}") from None
        roles = [i.role for i in checked[1]]
        if len(set(roles)) != len(roles):
            raise RunAbortedError("instruments settings: each role (balance, thermometer…) once")
        for i in checked[1]:
            if i.role.value == "balance" and i.serial != self.io.balance_ref.serial:
                raise RunAbortedError(
                    f"instruments settings: the balance {i.serial!r} is not this station's "
                    f"balance {self.io.balance_ref.serial!r}"
                )
        return checked

    def run(self, mode: RunMode) -> RunOutcome:
        started = self._now()
        tip, instruments = self.traceability()
        title = "Quick check" if mode is RunMode.QUICK_CHECK else "Gravimetric calibration"
        self.op.say(f"== {title} (ISO 8655-6), run {self.run_id}")
        operator = self.op.ask("operator", "Operator name")
        pipette, nominal = self.identify_pipette()
        environment = [self.record_environment()]
        volumes = [float(v) for v in self.op.setting("volumes_ul", default_volumes(nominal, mode))]
        default_reps = 4 if mode is RunMode.QUICK_CHECK else 10
        replicates = int(self.op.setting("replicates", default_reps))
        deliver = self._delivery()
        self.channels = int(self.op.setting("channels", self.channels))
        if not 1 <= self.channels <= 384:
            raise RunAbortedError(f"channels must be 1 to 384, not {self.channels}")
        # ISO 8655-6: each channel of a multichannel pipette is weighed on its own
        series = [
            self.test_volume(v, replicates, deliver, channel)
            for v in volumes
            for channel in range(1, self.channels + 1)
        ]
        environment.append(self.record_environment())
        run = GravimetricRun(
            run_id=self.run_id,
            mode=mode,
            pipette=pipette,
            nominal_volume_ul=nominal,
            channels=self.channels,
            balance=self.io.balance_ref,
            balance_readability_mg=self.readability_mg or 0.01,
            environment=environment,
            test_volumes=series,
            operator=operator,
            started_at=started,
            ended_at=self._now(),
            mpe_edition=self.mpe_edition,
            tip=tip,
            instruments=instruments,
        )
        # the measured run is published whatever the local judgement says
        self._store("the run", lambda: self.emitter.emit_many([Outgoing(run, device=None)]))
        result: RunResult | None
        try:
            result = evaluate_contract_run(run)
        except Iso8655Error as exc:
            result = None
            self.op.say(f"== No result: {exc}")
            self.op.say("Overall: FAIL (the run is kept and sent as measured)")
        else:
            self._show(result)
        self.op.say(f"Run {self.run_id} stored in the outbox for delivery.")
        return RunOutcome(run, result)

    def _delivery(self) -> Callable[[], None]:
        how = str(self.op.setting("deliver", "operator"))
        if how == "pipette":
            if self.io.pipette is None:
                raise RunAbortedError("script says deliver = 'pipette' but none is connected")
            return self.io.pipette.dispense
        return lambda: None

    def _show(self, result: RunResult) -> None:
        self.op.say("== Result")
        for v in result.volumes:
            verdict = "PASS" if v.passed else "FAIL"
            self.op.say(
                f"  {v.volume_ul:g} µL: mean {v.mean_volume_ul:.3f} µL, systematic "
                f"{v.systematic_error_ul:+.3f} µL ({v.systematic_error_pct:+.3f} %, MPE "
                f"±{v.mpe.systematic_ul:g} µL), random {v.random_error_ul:.3f} µL (CV "
                f"{v.cv_pct:.3f} %, MPE {v.mpe.random_ul:g} µL) — {verdict}"
            )
        for f in result.findings:
            self.op.say(f"  note: {f.message}")
        self.op.say(f"Overall: {'PASS' if result.passed else 'FAIL'}")
