"""Checking a converter's options: known names, and values of the type each option takes.

The CLI reads every `-o key=value` / `-w key=value` value as JSON when it parses, so `-o
scheme=5` arrives as the integer 5 and `-o 'scheme=[1]'` as a list. A converter states what
each option takes (`OptionSpec`) and calls `check_options` before using any of them, so a
wrong name or type is one clear `UnknownOptionError` (a usage error, exit 2) that names the
option, the type expected and the options the format has, instead of a traceback further in.

A spec maps each option name to its type(s), or to an `Option` that also carries the default,
a one-line help and (for a closed set of values) the choices; `describe(spec)` lists them as
plain rows, for `gt formats` and the docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import UnknownOptionError

__all__ = ["Option", "OptionSpec", "check_options", "describe", "describe_options", "option_types"]


@dataclass(frozen=True)
class Option:
    """One converter option: the type(s) its value may have, its default (what `None` or no
    value means), a one-line help and, for a closed set of values, the values allowed.

    A converter states its options as class attributes `read_options` and `write_options`
    (`OptionSpec`); `gt formats NAME` lists them from there, so a new converter's options
    appear without touching the CLI. Give `default` and `help` by keyword."""

    types: type | tuple[type, ...]
    default: Any = None
    help: str = ""
    choices: tuple[Any, ...] | None = None

    @property
    def type_name(self) -> str:
        """The type in words ("a string", "an integer or a number"...)."""
        return _expected(self.types)


# option name -> the Python types its value may have, or an `Option` (None always means "the
# default")
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


def _option(entry: type | tuple[type, ...] | Option) -> Option:
    return entry if isinstance(entry, Option) else Option(entry)


def describe(spec: OptionSpec) -> list[dict[str, Any]]:
    """The options of `spec` as rows: name, type (in words), default, help, choices."""
    rows = []
    for name in sorted(spec):
        opt = _option(spec[name])
        rows.append({"name": name, "type": opt.type_name, "default": opt.default,
                     "help": opt.help, "choices": list(opt.choices) if opt.choices else None})
    return rows


def check_options(
    fmt: str, options: Mapping[str, Any], spec: OptionSpec, *, direction: str = "reading"
) -> None:
    """Raise `UnknownOptionError` for an option `spec` does not name or a value of another type.

    `None` is accepted for every option (it means the default). The message names the option,
    the value, the type expected and every option the format takes in this direction.
    """
    known = {key: _option(entry) for key, entry in {**_COMMON, **spec}.items()}
    listing = ", ".join(sorted(spec)) or "none"
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise UnknownOptionError(
            f"unknown {direction} option(s) for {fmt}: {', '.join(unknown)}",
            hint=f"{direction} options of {fmt}: {listing} (`gt formats {fmt}` says what "
                 "each takes)",
        )
    for key, value in options.items():
        opt = known[key]
        types = opt.types
        if value is None:
            continue
        if _fits(value, types):
            if opt.choices is not None and value not in opt.choices:
                raise UnknownOptionError(
                    f"{direction} option {key}={_show(value)} for {fmt} is not one of "
                    f"{', '.join(map(str, opt.choices))}",
                    hint=f"{direction} options of {fmt}: {listing}")
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
