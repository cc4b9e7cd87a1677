"""The dialect-agnostic weight reading, unit conversion to mg, and decimal-place helpers.

Values are :class:`~decimal.Decimal`, never float: a balance prints a decimal string whose number of
decimal places *is* its readability (``100.00 g`` on a 0.01 g balance), and a Decimal keeps both
the exact value and those places, so ``format(parse(line))`` reproduces the line and mass
arithmetic downstream does not pick up binary rounding noise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from labcal_shared.errors import ProtocolError

__all__ = ["WeightReading", "decimals_for", "parse_decimal", "quantize", "to_mg"]

_MG_PER_UNIT: dict[str, Decimal] = {"mg": Decimal(1), "g": Decimal(1000), "kg": Decimal(1000000)}
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True, slots=True)
class WeightReading:
    """One weight value as every dialect reports it.

    ``value`` is ``None`` exactly when the balance reported an overload or underload instead of a
    number. ``unit`` is the unit symbol as sent (``"g"``, ``"mg"``, ``"kg"``, ``"ct"`` …), or ``""``
    when the device sent none (an unstable SBI line, an overload line).
    """

    value: Decimal | None
    unit: str
    stable: bool
    overload: bool = False
    underload: bool = False

    def __post_init__(self) -> None:
        if self.overload and self.underload:
            raise ProtocolError("a reading cannot be both an overload and an underload")
        if (self.value is None) != (self.overload or self.underload):
            raise ProtocolError(
                "a reading has a value exactly when it is neither an overload nor an underload"
            )

    @property
    def in_range(self) -> bool:
        """True when the reading carries a number (no overload or underload)."""
        return self.value is not None

    def to_mg(self) -> Decimal:
        """This reading's value in milligrams; :class:`ProtocolError` when it has no value."""
        if self.value is None:
            state = "overload" if self.overload else "underload"
            raise ProtocolError(f"cannot convert an {state} reading to mg: it has no value")
        return to_mg(self.value, self.unit)


def to_mg(value: Decimal, unit: str) -> Decimal:
    """Convert ``value`` in ``unit`` (``g``, ``mg`` or ``kg``) to milligrams, exactly."""
    try:
        factor = _MG_PER_UNIT[unit]
    except KeyError:
        known = ", ".join(sorted(_MG_PER_UNIT))
        raise ProtocolError(f"unknown mass unit {unit!r}: expected one of {known}") from None
    return value * factor


def parse_decimal(text: str, what: str = "value") -> Decimal:
    """Parse a plain decimal number as balances print it (optional sign, no exponent)."""
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ProtocolError(f"{what} {text!r} is not a plain decimal number")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise ProtocolError(f"{what} {text!r} is not a plain decimal number") from None


def decimals_for(readability: Decimal | str) -> int:
    """Number of decimal places a balance with this readability prints.

    ``0.00001`` → 5, ``0.01`` → 2, ``0.05`` → 2, ``1`` → 0. The readability must be positive.
    """
    step = readability if isinstance(readability, Decimal) else parse_decimal(readability)
    if not step.is_finite() or step <= 0:
        raise ProtocolError(f"readability must be a positive number, got {readability!r}")
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    return max(0, -exponent)


def quantize(value: Decimal, readability: Decimal | str) -> Decimal:
    """Round ``value`` half-up to the decimal places of ``readability`` (as a display would)."""
    if not value.is_finite():
        raise ProtocolError(f"cannot display a non-finite value {value!r}")
    places = decimals_for(readability)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
