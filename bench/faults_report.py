"""The fault benchmark's printed report (the ``--json`` form is the same dict)."""

from __future__ import annotations

__all__ = ["print_report"]


def print_report(r: dict[str, object], log: list[str]) -> None:
    print(
        f"\nseed {r['seed']}: {r['stations']} stations, {r['ingest_workers']} ingest workers, "
        f"storage receipts {'on' if r['storage_receipts'] else 'off'}"
    )
    print("faults injected:")
    for line in log:
        print("  " + line)
    print(
        "committed by the edges:", ", ".join(f"{k} {v}" for k, v in r["messages_by_kind"].items())
    )  # type: ignore[attr-defined]
    for key in ("committed", "stored", "lost", "doubled", "changed", "unexpected", "reordered"):
        print(f"  {key:<10} {r[key]}")
    print(
        f"drain after the last fault: {r['drain_after_last_fault_s']} s "
        f"(producers ran {r['producers_ran_after_last_fault_s']} s after it; drained "
        f"{r['drain_after_producers_stopped_s']} s after they stopped)"
    )
    print(
        f"left in outboxes {r['left_in_outboxes']}, refused by the full outbox "
        f"{r['refused_by_full_outbox']} (operator message: {r['operator_message']}), "
        f"dead letters {r['dead_letters']}"
    )
    print(
        "processes that exited by themselves, restarted by the rig's supervisor: "
        f"{r['restarted_after_exit'] or 'none'}"
    )
