"""Mosquitto password-file hashes, computed in Python (pure: the caller passes the salt).

Mosquitto 2.x writes ``user:$7$<iterations>$<base64 salt>$<base64 hash>`` where the hash is
PBKDF2-HMAC-SHA512 of the password over the salt (mosquitto_passwd: 12-byte salt, 101 iterations).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["mosquitto_hash", "verify_mosquitto_hash"]

DEFAULT_ITERATIONS = 101
SALT_BYTES = 12


def mosquitto_hash(password: str, salt: bytes, iterations: int = DEFAULT_ITERATIONS) -> str:
    if not password:
        raise ValueError("password must not be empty")
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes, got {len(salt)}")
    if iterations < 1:
        raise ValueError("iterations must be >= 1")
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_mosquitto_hash(password: str, encoded: str) -> bool:
    """True if ``encoded`` (``$7$...``) is the hash of ``password``."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
        raise ValueError("not a mosquitto $7$ hash")
    iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), parts[4]
    expected = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return hmac.compare_digest(base64.b64encode(expected).decode(), digest)
