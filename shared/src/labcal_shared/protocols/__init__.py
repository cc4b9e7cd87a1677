"""Balance protocol codecs: pure parse/format functions for MT-SICS, Sartorius SBI and A&D.

Each dialect module works in both directions, so the edge drivers (parse replies, format commands)
and the firmware simulator (parse commands, format replies) share one codec:

* :mod:`~labcal_shared.protocols.mtsics` — Mettler Toledo MT-SICS
* :mod:`~labcal_shared.protocols.sbi` — Sartorius SBI
* :mod:`~labcal_shared.protocols.aandd` — A&D standard format

Every dialect's ``parse_weight(line)`` returns the same :class:`WeightReading` (values are
:class:`~decimal.Decimal`), so code above the codecs can be dialect-agnostic; see also
:func:`parse_weight_line`. :class:`LineSplitter` turns a byte stream into lines for all of them.
Unparseable input raises :class:`~labcal_shared.errors.ProtocolError`.
"""

from labcal_shared.protocols import aandd, mtsics, sbi
from labcal_shared.protocols.dialects import Dialect, parse_weight_line
from labcal_shared.protocols.lines import DEFAULT_MAX_LINE, LineSplitter, SplitResult, decode_line
from labcal_shared.protocols.reading import (
    WeightReading,
    decimals_for,
    parse_decimal,
    quantize,
    to_mg,
)

__all__ = [
    "DEFAULT_MAX_LINE",
    "Dialect",
    "LineSplitter",
    "SplitResult",
    "WeightReading",
    "aandd",
    "decimals_for",
    "decode_line",
    "mtsics",
    "parse_decimal",
    "parse_weight_line",
    "quantize",
    "sbi",
    "to_mg",
]
