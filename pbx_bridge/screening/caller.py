"""The caller's number and name as a trunk or SIP peer sent them: hostile until cleaned.

They reach logs, the store, the console and the call taker's screen, so control and format
characters (CR, LF, ESC, bidi overrides) are dropped and the length is capped on arrival.
"""

from __future__ import annotations

import unicodedata

NUMBER_MAX = 32  # E.164 is 15 digits; room for a prefix or a SIP user part, no more
NAME_MAX = 64


def clean(value: object, limit: int) -> str:
    """Printable text only (Unicode category C removed), trimmed and cut to `limit`."""
    text = "" if value is None else str(value)
    printable = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return printable.strip()[:limit]


def caller_number(value: object) -> str:
    return clean(value, NUMBER_MAX)


def caller_name(value: object) -> str:
    return clean(value, NAME_MAX)
