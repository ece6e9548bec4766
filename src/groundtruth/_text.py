"""Small helpers for the words of user-facing text: counts with the right plural."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 item`, `2 items`, `0 items`; `plural` for nouns that do not just take an `s`."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def quote(s: str, limit: int = 40) -> str:
    """`s` in double quotes as JSON writes it (escapes visible), cut to `limit` with `…`."""
    import json

    return json.dumps(s if len(s) <= limit else s[: limit - 1] + "…", ensure_ascii=False)


def first_difference(a: str, b: str) -> int:
    """The index of the first character where `a` and `b` differ (the shorter length when
    one is a prefix of the other)."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def where_differ(a: str, b: str, context: int = 12) -> tuple[int, str, str]:
    """`(index, a_part, b_part)`: where `a` and `b` first differ, each shown from a few
    characters before that point, so two long texts with one prefix are told apart."""
    i = first_difference(a, b)
    lo = max(0, i - context)

    def cut(s: str) -> str:
        return ("…" if lo else "") + s[lo:i + context] + ("…" if len(s) > i + context else "")

    return i, cut(a), cut(b)


def show(value: object, limit: int = 8) -> str:
    """A value as a person reads it, not as Python prints it: `yes`/`no`, lists as `a, b`,
    maps as `k v, k v`, long ones cut with `and N more` (the JSON output has them whole)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = [f"{k} {show(v, limit)}" for k, v in list(value.items())[:limit]]
        more = len(value) - limit
    elif isinstance(value, list | tuple | set | frozenset):
        seq = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        parts = [show(v, limit) for v in seq[:limit]]
        more = len(seq) - limit
    else:
        return str(value)
    if not parts:
        return "none"
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")
