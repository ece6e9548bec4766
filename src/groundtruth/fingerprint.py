"""Content fingerprints: one hash that names a version of a dataset wherever it is stored.

The fingerprint is computed from the canonical form of every record: the record as a JSON
object with absent/null fields and empty lists/objects left out, keys sorted, no whitespace,
UTF-8 (orjson's output). Each record's SHA-256 is read as a 256-bit integer and the integers are
summed modulo 2**256 per kind, so the result does not depend on record order or on how records
are split into parts, and partial sums from parts computed in parallel simply add up. The
manifest's content (taxonomy, annotators, guidelines, splits) is hashed in too; names,
descriptions, version labels and storage details are not: they do not change what was labelled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from .models import Item

if TYPE_CHECKING:
    from .dataset import Dataset
    from .models import AnnotationBase, Manifest

_MOD = 1 << 256
_MANIFEST_CONTENT = ("taxonomy", "annotators", "guidelines", "splits")


def canonical_bytes(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def record_digest(record: Item | AnnotationBase) -> int:
    return int.from_bytes(hashlib.sha256(canonical_bytes(record.to_json_dict())).digest(), "big")


@dataclass
class Fingerprinter:
    """Accumulates record digests; `merge` combines accumulators from parallel workers."""

    sums: dict[str, int] = field(default_factory=lambda: {"items": 0, "annotations": 0})
    counts: dict[str, int] = field(default_factory=lambda: {"items": 0, "annotations": 0})

    def add(self, record: Item | AnnotationBase) -> None:
        kind = "items" if isinstance(record, Item) else "annotations"
        self.add_digest(kind, record_digest(record))

    def add_digest(self, kind: str, digest: int) -> None:
        self.sums[kind] = (self.sums[kind] + digest) % _MOD
        self.counts[kind] += 1

    def merge(self, other: Fingerprinter) -> Fingerprinter:
        for kind in self.sums:
            self.sums[kind] = (self.sums[kind] + other.sums[kind]) % _MOD
            self.counts[kind] += other.counts[kind]
        return self

    def hexdigest(self, manifest: Manifest) -> str:
        content = manifest.model_dump(mode="json", exclude_none=True, include=set(_MANIFEST_CONTENT))
        h = hashlib.sha256(b"groundtruth-fingerprint/1\n")
        h.update(canonical_bytes(content))
        for kind in ("items", "annotations"):
            h.update(f"\n{kind} {self.counts[kind]} {self.sums[kind]:064x}".encode())
        return f"sha256:{h.hexdigest()}"


def fingerprint_dataset(dataset: Dataset) -> str:
    fp = Fingerprinter()
    for record in dataset.records():
        fp.add(record)
    return fp.hexdigest(dataset.manifest)
