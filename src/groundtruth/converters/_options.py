"""Checking a converter's options: known names, and values of the type each option takes.

The CLI reads every `-o key=value` / `-w key=value` value as JSON when it parses, so `-o
scheme=5` arrives as the integer 5 and `-o 'scheme=[1]'` as a list. A converter states what
each option takes (`OptionSpec`) and calls `check_options` before using any of them, so a
wrong name or type is one clear `UnknownOptionError` (a usage error, exit 2) that names the
option, the type expected and the options the format has, instead of a traceback further in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import UnknownOptionError

__all__ = ["Option", "OptionSpec", "check_options", "describe_options", "option_types"]


@dataclass(frozen=True)
class Option:
    """One option a converter takes: its types, its default and one line of help.

    A converter states its options as class attributes `read_options` and `write_options`
    (`OptionSpec`); `gt formats NAME` lists them from there, so a new converter's options
    appear without touching the CLI.
    """

    types: type | tuple[type, ...]
    help: str = ""
    default: Any = None


# option name -> the Python types its value may have (None always means "the default"), or an
# `Option` that also says what it does and its default
OptionSpec = Mapping[str, "type | tuple[type, ...] | Option"]

# options every converter accepts from the verbs, whatever its own ones are
_COMMON: dict[str, type | tuple[type, ...]] = {"storage_options": dict, "overwrite": bool}

_NAMES: dict[type, str] = {
    str: "a string", bool: "true or false", int: "an integer", float: "a number",
    list: "a list", dict: "an object",
}


def option_types(spec: type | tuple[type, ...] | Option) -> type | tuple[type, ...]:
    """The Python types an option's value may have."""
    return spec.types if isinstance(spec, Option) else spec


def describe_options(spec: OptionSpec) -> list[tuple[str, str, str, str]]:
    """`(name, type, default, help)` for each option of `spec`, sorted by name."""
    out = []
    for key in sorted(spec):
        opt = spec[key]
        default = opt.default if isinstance(opt, Option) else None
        shown = "" if default is None else (orjson.dumps(default).decode()
                                           if not isinstance(default, str) else default)
        out.append((key, _expected(option_types(opt)), shown,
                    opt.help if isinstance(opt, Option) else ""))
    return out


def _expected(types: type | tuple[type, ...]) -> str:
    options = types if isinstance(types, tuple) else (types,)
    return " or ".join(_NAMES.get(t, t.__name__) for t in options)


def _kind(value: Any) -> str:
    for t in (bool, int, float, str, list, dict):
        if isinstance(value, t):
            return _NAMES[t]
    return type(value).__name__


def _show(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fits(value: Any, types: type | tuple[type, ...]) -> bool:
    options = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool):  # a bool is an int to Python, not to a user
        return bool in options
    if isinstance(value, int) and float in options:
        return True
    return isinstance(value, options)


def check_options(
    fmt: str, options: Mapping[str, Any], spec: OptionSpec, *, direction: str = "reading"
) -> None:
    """Raise `UnknownOptionError` for an option `spec` does not name or a value of another type.

    `None` is accepted for every option (it means the default). The message names the option,
    the value, the type expected and every option the format takes in this direction.
    """
    known = {**_COMMON, **{k: option_types(v) for k, v in spec.items()}}
    listing = ", ".join(sorted(spec)) or "none"
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise UnknownOptionError(
            f"unknown {direction} option(s) for {fmt}: {', '.join(unknown)}",
            hint=f"{direction} options of {fmt}: {listing} (`gt formats {fmt}` says what "
                 "each takes)",
        )
    for key, value in options.items():
        types = known[key]
        if value is None or _fits(value, types):
            continue
        flag = "-o" if direction == "reading" else "-w"
        quoted = (f"; on the command line a value is read as JSON when it parses, so quote a "
                  f"string: {flag} '{key}=\"{value}\"'" if str in (
                      types if isinstance(types, tuple) else (types,)) and isinstance(
                      value, int | float) else "")
        raise UnknownOptionError(
            f"{direction} option {key}={_show(value)} for {fmt} must be {_expected(types)}, "
            f"not {_kind(value)}",
            hint=f"{direction} options of {fmt}: {listing}{quoted}",
        )
