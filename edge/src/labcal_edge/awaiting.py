"""Messages the broker took but nobody has confirmed yet: when to send each one again (pure).

A message waits here after its PUBACK when the station waits for storage receipts, or after a
PUBACK "no matching subscribers" (the broker dropped it). It stays in the outbox meanwhile; once
its deadline passes, :meth:`AwaitingReceipts.due` hands it back for resending, and every resend
doubles its wait (up to 16 times the base), so a long cloud outage does not flood the broker
with copies. Times are plain numbers (monotonic seconds) passed in.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

__all__ = ["AwaitingReceipts"]

_MAX_DOUBLINGS = 4


class AwaitingReceipts:
    def __init__(self) -> None:
        self._deadline: dict[int, float] = {}  # outbox seq -> when to send it again
        self._resends: dict[int, int] = {}  # outbox seq -> times sent again so far
        self._heap: list[tuple[float, int]] = []

    def wait(self, seq: int, now: float, base_s: float) -> float:
        """``seq`` was sent and is not confirmed: send it again after its (growing) wait."""
        deadline: float = now + base_s * (1 << min(self._resends.get(seq, 0), _MAX_DOUBLINGS))
        self._deadline[seq] = deadline
        heapq.heappush(self._heap, (deadline, seq))
        return deadline

    def due(self, now: float, limit: int) -> list[int]:
        """Up to ``limit`` messages whose wait is over, oldest deadline first; they stop
        waiting (the caller sends them again, then :meth:`wait` s again)."""
        out: list[int] = []
        heap = self._heap
        while heap and len(out) < limit and heap[0][0] <= now:
            deadline, seq = heapq.heappop(heap)
            if self._deadline.get(seq) != deadline:
                continue  # confirmed, or waiting with a later deadline
            del self._deadline[seq]
            self._resends[seq] = self._resends.get(seq, 0) + 1
            out.append(seq)
        return out

    def confirmed(self, seqs: Iterable[int]) -> None:
        """These messages are done (stored, or gone from the outbox): forget them."""
        for seq in seqs:
            self._deadline.pop(seq, None)
            self._resends.pop(seq, None)
        if not self._deadline and self._heap:
            self._heap.clear()

    def resends(self, seq: int) -> int:
        return self._resends.get(seq, 0)

    def __contains__(self, seq: object) -> bool:
        return seq in self._deadline

    def __len__(self) -> int:
        return len(self._deadline)
