"""Change records kept compact: each one as its JSON bytes, decoded when read.

A 1M-annotation diff with 5% changes keeps ~50k records, each with the old and new annotation
in full; as Python dicts that is a few KB apiece, as JSON bytes a few hundred bytes. The JSON
rendering writes the bytes as they are, without decoding them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import orjson


class ChangeList(Sequence[dict[str, Any]]):
    """A read-only list of change records (dicts), stored as JSON bytes."""

    def __init__(self, records: Iterable[dict[str, Any]] = ()) -> None:
        self._raw: list[bytes] = [orjson.dumps(r) for r in records]

    @classmethod
    def from_raw(cls, raw: list[bytes]) -> ChangeList:
        out = cls()
        out._raw = raw
        return out

    def append(self, record: dict[str, Any]) -> None:
        self._raw.append(orjson.dumps(record))

    @property
    def raw(self) -> list[bytes]:
        """The records as JSON bytes (no decoding)."""
        return self._raw

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [orjson.loads(r) for r in self._raw[index]]
        return orjson.loads(self._raw[index])  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for r in self._raw:
            yield orjson.loads(r)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ChangeList):
            return self._raw == other._raw
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"ChangeList({len(self)} records)"
