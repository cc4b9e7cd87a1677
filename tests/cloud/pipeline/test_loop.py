"""The pipeline loop's rules, with the stages and the wake-up faked at their ports."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from labcal_cloud.pipeline.loop import PipelineTiming, Stages, due_change_line, run_pipeline


@dataclass
class Script:
    """Stages that return scripted values and log their calls; the clock moves with waits."""

    records: list[int]
    certificates: list[list[str]] = field(default_factory=list)
    fail_passes: set[int] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    passes: int = 0
    now: float = 0.0

    def stages(self) -> Stages:
        def records() -> int:
            self.passes += 1
            if self.passes in self.fail_passes:
                raise ConnectionError("database restarting")
            self.calls.append("records")
            return self.records.pop(0) if self.records else 0

        def certify() -> Sequence[str]:
            self.calls.append("certify")
            return self.certificates.pop(0) if self.certificates else []

        def step(name: str, value: int) -> object:
            def run() -> int:
                self.calls.append(name)
                return value

            return run

        return Stages(records, certify, step("due", 1), step("forecast", 0), step("plan", 2))  # type: ignore[arg-type]


class ScriptedWake:
    def __init__(self, script: Script, stop: threading.Event, passes: int, woken: bool) -> None:
        self.script, self.stop, self.passes, self.woken = script, stop, passes, woken
        self.timeouts: list[float] = []

    def wait(self, timeout: float) -> bool:
        self.timeouts.append(timeout)
        self.script.now += 5.0 if self.woken else timeout  # a wake-up arrives every 5 s
        if self.script.passes >= self.passes:
            self.stop.set()
        return self.woken

    def close(self) -> None:
        pass


def _run(script: Script, passes: int, *, woken: bool = False, timing: PipelineTiming) -> list[str]:
    stop = threading.Event()
    lines: list[str] = []
    wake = ScriptedWake(script, stop, passes, woken)
    stop_wait = stop.wait

    def fake_wait(timeout: float | None = None) -> bool:  # back-off waits move the clock too
        script.now += timeout or 0
        if script.passes >= passes:
            stop.set()
        return stop_wait(0)

    stop.wait = fake_wait  # type: ignore[method-assign]
    run_pipeline(script.stages(), wake, stop, lines.append, timing=timing, clock=lambda: script.now)
    return lines


TIMING = PipelineTiming(due_every_s=10, idle_due_s=60, forecast_every_s=100, idle_s=5)


def test_a_new_certificate_refreshes_due_states_and_plans_at_once() -> None:
    script = Script(records=[0, 0, 1], certificates=[[], [], ["certificate LC-1 signed for X"]])
    lines = _run(script, 3, timing=TIMING)
    # pass 1: first refresh (never refreshed); pass 2 (5 s later, idle): none; pass 3: new record
    assert script.calls == [
        "records", "certify", "due", "forecast", "plan",
        "records", "certify",
        "records", "certify", "due", "forecast", "plan",
    ]  # fmt: skip
    assert "pipeline: certificate LC-1 signed for X" in lines
    assert lines[0] == "pipeline: ready"
    assert lines.count("pipeline: 2 reminder step(s) planned") == 2


def test_idle_refreshes_wait_for_idle_due_s_but_wake_ups_for_due_every_s() -> None:
    idle = Script(records=[])
    _run(idle, 13, timing=TIMING)  # 12 waits of 5 s = 60 s
    assert idle.calls.count("due") == 2  # at 0 s and at 60 s
    woken = Script(records=[])
    _run(woken, 13, woken=True, timing=TIMING)
    assert woken.calls.count("due") == 7  # 0, 10, 20, … 60 s
    assert woken.calls.count("forecast") == 1  # forecasts only every 100 s without new records


def test_a_failing_pass_is_reported_and_retried_after_a_back_off() -> None:
    script = Script(records=[1], fail_passes={1, 2})
    lines = _run(script, 3, timing=TIMING)
    failed = [line for line in lines if "pass failed" in line]
    assert failed == [
        "pipeline: pass failed (ConnectionError: database restarting); retry in 1 s",
        "pipeline: pass failed (ConnectionError: database restarting); retry in 2 s",
    ]
    assert script.calls[:2] == ["records", "certify"]  # the third pass ran the stages
    assert "due" in script.calls


def test_once_runs_a_single_pass() -> None:
    script = Script(records=[2])
    stop = threading.Event()
    wake = ScriptedWake(script, stop, 99, False)
    failures = run_pipeline(script.stages(), wake, stop, lambda _: None, once=True)
    assert failures == 0
    assert script.passes == 1
    assert wake.timeouts == []


def test_a_stop_request_ends_an_idle_wait_without_waiting_it_out() -> None:
    import time

    class Silent:
        def wait(self, timeout: float) -> bool:
            time.sleep(timeout)
            return False

        def close(self) -> None:
            pass

    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    run_pipeline(Script(records=[]).stages(), Silent(), stop, lambda _: None,
                 timing=PipelineTiming(idle_s=600))  # fmt: skip
    assert time.monotonic() - started < 60  # not the 600 s idle period


def test_due_changes_are_named_by_serial_and_a_long_list_is_cut() -> None:
    assert due_change_line(1, ["LP1000-0101 now ok"]) == "due state changed: LP1000-0101 now ok"
    names = [f"S-{i} now due" for i in range(83)]
    assert due_change_line(83, names) == (
        "due state changed: S-0 now due, S-1 now due, S-2 now due, S-3 now due, S-4 now due"
        " and 78 more"
    )
    assert due_change_line(3, []) == "due state changed for 3 device(s)"  # stages without names


def test_the_loop_prints_the_changed_devices_of_the_pass() -> None:
    script = Script(records=[0])
    base = script.stages()
    stages = replace(base, due_changed=lambda: ["LP100-0102 now due soon"])
    stop = threading.Event()
    lines: list[str] = []
    run_pipeline(stages, ScriptedWake(script, stop, 1, False), stop, lines.append, once=True)
    assert "pipeline: due state changed: LP100-0102 now due soon" in lines
