"""JSON → spec plumbing for `lstm_app.spec`: limits checked before parsing, typed access, messages.

Experiment files come from users, so the text is measured before `json.loads` sees it: a file
over `MAX_JSON_BYTES` or nested deeper than `MAX_JSON_DEPTH` is refused in one sentence (the
parser itself would spend memory on the first and raise `RecursionError` on the second).
"""

from __future__ import annotations

import dataclasses
import json
import re
import reprlib
from typing import Any, TypeVar

import numpy as np

from .errors import SpecError

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "bad", "build", "loads", "mapping", "sequence", "show"]

MAX_JSON_BYTES = 2_000_000  # the largest valid experiment (64 models × 8 layers, 100 seeds) is ~115 kB
MAX_JSON_DEPTH = 32  # a valid experiment nests 5 levels deep (experiment → models → model → layers → layer)

_T = TypeVar("_T")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets, to delete
_SHOWN = 80  # characters of a value a message shows
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 4, 4, 4, 40, 40


def show(value: object) -> str:
    """A short, one-line `repr` of a user's value for a message (nested and huge values abridged)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = " ".join(_REPR.repr(value).split())
    except (ValueError, RecursionError):  # an int beyond the digit limit deep inside a list
        text = f"a {type(value).__name__}"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def bad(argument: str, expected: str, got: object) -> SpecError:
    """Keras's message: ``Received an invalid value for argument `units`, expected ..., got 0.``"""
    return SpecError(f"Received an invalid value for argument `{argument}`, expected {expected}, got {show(got)}.")


def _depth(data: bytes) -> int:
    """The deepest bracket nesting of JSON text, brackets inside strings not counted."""
    brackets = _STRING.sub(b'""', data).translate(None, _BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def loads(text: str | bytes) -> Any:
    """Parse experiment JSON after checking its size and nesting; `SpecError` if either is too big."""
    if isinstance(text, str):
        size = len(text) if len(text) > MAX_JSON_BYTES else len(text.encode("utf-8", "surrogatepass"))
    else:
        size = len(text)
    if size > MAX_JSON_BYTES:
        raise SpecError(
            f"The experiment file has {size:,} bytes, more than the {MAX_JSON_BYTES:,} bytes an experiment "
            "may have: export it again from the page, or remove models from it."
        )
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    depth = _depth(data)
    if depth > MAX_JSON_DEPTH:
        raise SpecError(
            f"The experiment file nests lists and objects {depth} levels deep, more than the {MAX_JSON_DEPTH} "
            "levels an experiment may have: check that it is an experiment exported from the page."
        )
    try:
        return json.loads(text)
    except (ValueError, UnicodeError) as exc:  # JSONDecodeError, a bad encoding, an int over the digit limit
        detail = " ".join(str(exc).split(";")[0].split())[:100].rstrip(".")
        raise SpecError(f"The experiment file is not valid JSON ({detail}).") from None


def mapping(where: str, value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else a `SpecError` naming `where`."""
    if not isinstance(value, dict):
        raise bad(where, "a JSON object", type(value).__name__)
    return value


def sequence(where: str, value: Any, *, most: int | None = None, expected: str | None = None) -> list[Any]:
    """`value` if it is a JSON list of at most `most` items (counted before any item is looked at).

    `expected` words the count limit in the message, e.g. "1 to 64 models".
    """
    if not isinstance(value, (list, tuple)):
        raise bad(where, "a JSON list", type(value).__name__)
    if most is not None and len(value) > most:
        raise bad(where, expected or f"a list of at most {most} items", len(value))
    return list(value)


def build(cls: type[_T], raw: dict[str, Any], where: str, **convert: Any) -> _T:
    """`cls(**raw)` with unknown and missing keys refused by name; `convert` maps a key's raw value."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in fields}
    unknown = sorted(set(raw) - names)
    if unknown:
        key = " ".join(str(unknown[0]).split())[:40]
        raise SpecError(f"Unknown key `{key}` in `{where}`; allowed keys are {', '.join(sorted(names))}.")
    required = [f.name for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [name for name in required if name not in raw]
    if missing:
        raise SpecError(f"Missing key `{missing[0]}` in `{where}`; required keys are {', '.join(required)}.")
    kwargs = {}
    for key, value in raw.items():
        kwargs[key] = convert[key](value) if key in convert else value
    return cls(**kwargs)
