"""Reading and writing native groundtruth datasets on any fsspec filesystem."""

from ._arrow import rows_to_batch
from ._batches import iter_batches, read_table
from ._fs import atomic_write, atomic_write_bytes, read_head, resolve
from ._native import (
    MANIFEST,
    DatasetWriter,
    NativeSource,
    check_parts,
    is_native,
    iter_native_records,
    iter_part_batches,
    iter_part_dicts,
    open_native,
    read_manifest_issues,
)
from ._parts import DEFAULT_MAX_MEMBER_BYTES, MAX_MEMBER_ENV, default_verify, reading

__all__ = [
    "DEFAULT_MAX_MEMBER_BYTES",
    "MANIFEST",
    "MAX_MEMBER_ENV",
    "DatasetWriter",
    "NativeSource",
    "atomic_write",
    "atomic_write_bytes",
    "check_parts",
    "default_verify",
    "is_native",
    "iter_batches",
    "iter_native_records",
    "iter_part_batches",
    "iter_part_dicts",
    "open_native",
    "read_head",
    "read_manifest_issues",
    "read_table",
    "reading",
    "resolve",
    "rows_to_batch",
]
