"""The structural byte scan finds the same values as parsing the whole file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from groundtruth.converters.coco import _scan

from .conftest import real_coco_files


def _rebuild(data: bytes, block: int, big: int, chunk: int) -> Any:
    f = io.BytesIO(data)
    layout = _scan.scan(f, block=block)
    if layout.root == 91:
        out: list[Any] = []
        for part in _scan.iter_elements(f, data.index(b"["), layout.ends[-1], chunk=chunk):
            out += part
        return out
    doc, where, _order = _scan.skeleton(f, layout, big=big)
    for key, (start, _stop) in where.items():
        ends = layout.ends[start]
        doc[key] = [x for part in _scan.iter_elements(f, start, ends, chunk=chunk) for x in part]
    return doc


TRICKY = [
    {"images": [{"id": 1, "file_name": 'a "quoted" [name] {x}', "w": "\\"}],
     "annotations": [{"segmentation": {"counts": "ab\\\\]]}", "size": [1, 2]}, "k": "\\\""},
                     {"x": [[1, 2], [3, 4]], "y": {"z": [{}]}}, {}],
     "categories": [], "info": None, "empty": {}, "n": 3},
    [{"image_id": 1, "caption": "}]"}, {"image_id": 2, "caption": "\\\\"}],
]


@pytest.mark.parametrize("doc", TRICKY)
@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
def test_tricky_strings_and_block_edges(doc: Any, block: int) -> None:
    for indent in (0, orjson.OPT_INDENT_2):
        data = orjson.dumps(doc, option=indent)
        assert _rebuild(data, block, big=1, chunk=5) == doc
        assert _rebuild(data, block, big=1 << 20, chunk=1 << 20) == doc


FILES = real_coco_files()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_real_files(path: Path) -> None:
    data = path.read_bytes()
    assert _rebuild(data, block=4096, big=1000, chunk=3000) == orjson.loads(data)


@pytest.mark.parametrize("data", [b'{"a": [1, 2}', b'{"a": "x', b"]", b'{"a": [}]'])
def test_unbalanced_input_is_rejected(data: bytes) -> None:
    with pytest.raises(ValueError):
        _rebuild(data, block=4, big=1, chunk=4)
