"""The pure `Call` as JSON and back, losslessly: datetimes as ISO 8601, enums by value.

Driven by the dataclass's own type hints, so a field added to `Call` (or `TimelineEntry`) is
carried without a change here; a field missing from older JSON takes its default.
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pbx_bridge.screening.model import Call


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: _encode(getattr(value, field.name)) for field in fields(value)}
    return value


def _decode(kind: Any, raw: Any) -> Any:
    if typing.get_origin(kind) in {typing.Union, types.UnionType}:
        if raw is None:
            return None
        (kind,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
    return _decode_present(kind, raw)


def _decode_present(kind: Any, raw: Any) -> Any:
    if typing.get_origin(kind) is tuple:
        item_kind = typing.get_args(kind)[0]
        return tuple(_decode(item_kind, item) for item in raw)
    if kind is datetime:
        return datetime.fromisoformat(raw)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(raw)
    if isinstance(kind, type) and is_dataclass(kind):
        return _decode_dataclass(kind, raw)
    return raw


def _decode_dataclass(kind: type[Any], raw: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(kind)
    known = {field.name for field in fields(kind)}
    return kind(
        **{name: _decode(hints[name], value) for name, value in raw.items() if name in known}
    )


def call_to_json(call: Call) -> dict[str, Any]:
    encoded: dict[str, Any] = _encode(call)
    return encoded


def call_from_json(raw: dict[str, Any]) -> Call:
    """The call `call_to_json` made; raises (KeyError, TypeError, ValueError) on bad input."""
    call: Call = _decode_dataclass(Call, raw)
    return call
