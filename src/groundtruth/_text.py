"""Small helpers for the words of user-facing text: counts with the right plural."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 item`, `2 items`, `0 items`; `plural` for nouns that do not just take an `s`."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
