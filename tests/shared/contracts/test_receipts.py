"""The storage receipt codec (labcal_shared.contracts.receipts)."""

from __future__ import annotations

import pytest

from labcal_shared.contracts.receipts import decode_receipt, encode_receipt, same_id
from labcal_shared.errors import DecodeError


def test_ids_compare_hyphenated_or_hex() -> None:
    u = "6F1C0E2A-0000-4000-8000-000000000001"
    assert same_id(u, u.replace("-", "").lower())
    assert not same_id(u, u[:-1] + "2")


def test_round_trip() -> None:
    pairs = [(0, "a"), (17, "6f1c0e2a-0000-4000-8000-000000000001")]
    assert decode_receipt(encode_receipt(pairs)) == pairs
    assert decode_receipt(encode_receipt([])) == []


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "not a storage receipt"),
        (b'{"type": "reading", "stored": []}', "not a storage receipt"),
        (b'{"type": "storage_receipt"}', "'stored' must be a list"),
        (b'{"type": "storage_receipt", "stored": [[1]]}', "stored.0"),
        (b'{"type": "storage_receipt", "stored": [[-1, "x"]]}', "stored.0"),
        (b'{"type": "storage_receipt", "stored": [[1, "x"], [true, "y"]]}', "stored.1"),
        (b'{"type": "storage_receipt", "stored": [["1", "x"]]}', "stored.0"),
    ],
)
def test_bad_receipts_are_refused_with_the_reason(payload: bytes, says: str) -> None:
    with pytest.raises(DecodeError, match=says):
        decode_receipt(payload)
