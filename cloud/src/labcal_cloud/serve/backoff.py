"""When to restart a role that exited (pure): exponential backoff, reset once it stayed up."""

from __future__ import annotations

__all__ = ["STAYED_UP_S", "describe_exit", "restart_delay"]

STAYED_UP_S = 60.0  # a role up this long before it exited starts its backoff over
_BASE_S = 1.0
_CAP_S = 30.0


def restart_delay(failures: int, base_s: float = _BASE_S, cap_s: float = _CAP_S) -> float:
    """Seconds to wait before restart number ``failures`` (1, 2, 4, … capped at ``cap_s``)."""
    if failures < 1:
        return 0.0
    return float(min(cap_s, base_s * 2 ** min(failures - 1, 30)))


def describe_exit(code: int | None) -> str:
    """``0`` → "code 0"; ``-9`` → "code -9 (killed by SIGKILL)"."""
    if code is None:
        return "no code"
    if code < 0:
        import signal

        try:
            return f"code {code} (killed by {signal.Signals(-code).name})"
        except ValueError:
            return f"code {code}"
    return f"code {code}"
