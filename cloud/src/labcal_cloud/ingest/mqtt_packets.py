"""MQTT packet bytes the ingest's lean receive path reads and writes (pure): a QoS 0/1 PUBLISH
parsed to (topic, payload, packet id, QoS), MQTT variable byte integers, PUBACKs in bulk."""

from __future__ import annotations

import struct
from collections.abc import Sequence

__all__ = ["CUT_OFF", "PUBACK", "PUBLISH", "TOO_LONG", "parse_publish", "pubacks", "variable_int"]


def parse_publish(
    command: int, packet: bytes | bytearray, v5: bool
) -> tuple[str, bytes, int, int] | None:
    """(topic, payload, packet id, QoS) of a QoS 0 or 1 PUBLISH, or None to leave it to paho.

    ``command`` is the first byte of the fixed header, ``packet`` the bytes after it (variable
    header and payload), ``v5`` whether the connection speaks MQTT 5 (then a properties length,
    a variable byte integer, follows the packet id; the properties are skipped). None for
    QoS 2 and for whatever paho would reject or treat specially: a packet too short for its
    fields, a properties length that is malformed or runs past the packet, an empty topic (an
    error before MQTT 5, a topic alias in it) or one that is not UTF-8.
    """
    qos = (command >> 1) & 3
    if qos > 1:
        return None
    size = len(packet)
    if size < 2:
        return None
    end = 2 + ((packet[0] << 8) | packet[1])  # topic: a 16-bit length, then the bytes
    if end == 2:
        return None
    pos = end
    mid = 0
    if qos:
        pos += 2
        if pos > size:
            return None
        mid = (packet[end] << 8) | packet[end + 1]
    if v5:
        length, pos = variable_int(packet, pos, size)  # the properties length
        if pos < 0:
            return None
        pos += length
    if pos > size:
        return None
    try:
        topic = packet[2:end].decode()
    except UnicodeDecodeError:
        return None
    return topic, bytes(packet[pos:]), mid, qos


CUT_OFF, TOO_LONG = -1, -2


def variable_int(data: bytes | bytearray, pos: int, end: int) -> tuple[int, int]:
    """The MQTT variable byte integer at ``data[pos]`` (1-4 bytes of 7 bits, low bits first):
    (value, position after it); the position is ``CUT_OFF`` when ``end`` comes first and
    ``TOO_LONG`` when a fourth byte still has its continuation bit."""
    value = shift = 0
    while pos < end:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 21:
            return value, TOO_LONG
    return value, CUT_OFF


PUBLISH = 0x30  # MQTT control packet type PUBLISH (the high nibble of the first byte)
PUBACK = 0x40  # MQTT control packet type PUBACK; remaining length 2 = packet id, reason 0


def pubacks(mids: Sequence[int]) -> bytes:
    """The bytes of one PUBACK per packet id, concatenated (MQTT 3.1.1 and 5 alike)."""
    return struct.pack(f"!{len(mids)}I", *((PUBACK << 24) | (2 << 16) | mid for mid in mids))
