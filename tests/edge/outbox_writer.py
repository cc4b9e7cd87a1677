"""Subprocess for the kill -9 test: append messages forever, print each seq once committed."""

from __future__ import annotations

import sys

from labcal_edge.outbox import Outbox, OutboxMessage


def main() -> None:
    outbox = Outbox(sys.argv[1])
    n = 0
    while True:
        seq = outbox.append(lambda s: OutboxMessage(f"id-{s}", "labcal/v1/t/s/reading", b"x" * 200))
        if n % 3 == 0:  # acknowledge some, like the publisher does
            outbox.ack([seq])
            print(f"acked {seq}", flush=True)
        else:
            print(f"stored {seq}", flush=True)
        n += 1


if __name__ == "__main__":
    main()
