"""The JSON codec python-socketio and python-engineio use for every packet.

Their default builds a new encoder or decoder object for each packet (they pass options to
``json``), a visible share of the CPU per message and per connect. Here the decoder is built
once, with python-engineio's own rule (integers of at most 100 digits), so every incoming payload
is read exactly as before; outgoing packets, which are Kinline's own data, are written by orjson,
and by the standard library in the rare case orjson refuses (a lone surrogate)."""

from __future__ import annotations

import json
from typing import Any

import orjson

_MAX_INTEGER_DIGITS = 100


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_INTEGER_DIGITS:
        raise ValueError("integer is too large")
    return int(text)


_decoder = json.JSONDecoder(parse_int=_bounded_int)
_fallback_encoder = json.JSONEncoder(separators=(",", ":"))


def dumps(value: Any, **_options: Any) -> str:
    """Compact JSON text; the only option the callers pass is compact separators."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return _fallback_encoder.encode(value)


def loads(text: str | bytes, **_options: Any) -> Any:
    return _decoder.decode(text if isinstance(text, str) else text.decode())
