"""The pipeline process's own figures for ``/metrics`` and ``/readyz`` (on LABCAL_METRICS_PORT)."""

from __future__ import annotations

import threading

from labcal_cloud.ops.prometheus import Family, Sample, render
from labcal_cloud.pipeline.loop import PassReport

__all__ = ["PipelineCounters"]


class PipelineCounters:
    """Thread-safe totals since the process started; ready after the first completed pass."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = {"passes": 0, "failed": 0, "records": 0, "certificates": 0}
        self._stages = {"due_changes": 0, "alerts": 0, "planned": 0}

    def observe(self, report: PassReport | None) -> None:
        with self._lock:
            if report is None:
                self._totals["failed"] += 1
                return
            self._totals["passes"] += 1
            self._totals["records"] += report.records
            self._totals["certificates"] += len(report.certificates)
            for name in self._stages:
                self._stages[name] += getattr(report, name) or 0

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            passes = self._totals["passes"]
        return passes > 0, f"{passes} pass(es) completed"

    def prometheus(self) -> str:
        with self._lock:
            totals, stages = dict(self._totals), dict(self._stages)
        return render(
            [
                Family(
                    "labcal_pipeline_passes_total",
                    "Pipeline passes of this process, by outcome.",
                    "counter",
                    (
                        Sample(float(totals["passes"]), {"outcome": "ok"}),
                        Sample(float(totals["failed"]), {"outcome": "failed"}),
                    ),
                ),
                Family(
                    "labcal_pipeline_items_total",
                    "What this pipeline process produced, by stage.",
                    "counter",
                    tuple(
                        Sample(float(n), {"stage": stage})
                        for stage, n in (
                            ("records", totals["records"]),
                            ("certificates", totals["certificates"]),
                            ("due_changes", stages["due_changes"]),
                            ("alerts", stages["alerts"]),
                            ("planned", stages["planned"]),
                        )
                    ),
                ),
            ]
        )
