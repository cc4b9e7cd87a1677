"""When an unconfirmed message is sent again: the pure schedule of labcal_edge.awaiting."""

from __future__ import annotations

from labcal_edge.awaiting import AwaitingReceipts


def test_a_message_is_due_after_its_wait_and_the_wait_doubles_per_resend() -> None:
    a = AwaitingReceipts()
    a.wait(7, now=100.0, base_s=10.0)
    assert 7 in a
    assert len(a) == 1
    assert a.due(109.9, 10) == []
    assert a.due(110.0, 10) == [7]
    assert 7 not in a  # being sent again
    waits = []
    for n in range(1, 7):
        deadline = a.wait(7, now=0.0, base_s=10.0)
        waits.append(deadline)
        assert a.due(deadline, 10) == [7]
        assert a.resends(7) == n + 1
    assert waits == [20.0, 40.0, 80.0, 160.0, 160.0, 160.0]  # capped at 16x


def test_confirmed_messages_are_never_due_and_due_respects_the_limit_and_order() -> None:
    a = AwaitingReceipts()
    for seq, now in ((3, 2.0), (1, 0.0), (2, 1.0), (4, 3.0)):
        a.wait(seq, now, 1.0)
    a.confirmed([2])
    assert 2 not in a
    assert a.resends(2) == 0
    assert a.due(10.0, 2) == [1, 3]
    assert a.due(10.0, 10) == [4]
    assert len(a) == 0


def test_a_later_wait_replaces_the_earlier_deadline() -> None:
    a = AwaitingReceipts()
    a.wait(5, 0.0, 1.0)
    a.wait(5, 10.0, 1.0)  # e.g. a PUBACK for a copy sent again
    assert a.due(5.0, 10) == []
    assert a.due(11.0, 10) == [5]
