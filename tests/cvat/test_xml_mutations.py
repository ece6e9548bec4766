"""Mangled copies of the real VOC and CVAT files (cut short, characters replaced, stretches
deleted, numbers made text) are either read, with issues, and written back, or refused with a
located `ConversionError`: never another exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from groundtruth import converters
from groundtruth.errors import ConversionError
from tests.conftest import shared_path

FILES = [
    ("cvat", "cvat/datumaro/for_images/train.xml"),
    ("cvat", "cvat/datumaro/for_video/annotations.xml"),
    ("cvat", "cvat/darwin/convert/cvat/to/output.xml"),
    ("voc", "voc/kili_voc2012/Annotations/2007_000027.xml"),
    ("voc", "voc/kili_voc2012/Annotations/2011_004772.xml"),
    ("voc", "voc/datumaro/voc_dataset1/Annotations/2007_000001.xml"),
]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    op = rng.randrange(4)
    if op == 0:
        return bytes(b[: rng.randrange(len(b))])
    if op == 1:
        for _ in range(3):
            b[rng.randrange(len(b))] = rng.choice(b'<>/="0123456789.-abc ;,')
        return bytes(b)
    if op == 2:
        text = data.decode()
        return text.replace('"1"', '"x"', 1).replace(">1<", ">-<", 1).encode()
    i, j = sorted((rng.randrange(len(b)), rng.randrange(len(b))))
    return bytes(b[:i] + b[j:])


@pytest.mark.parametrize(("fmt", "name"), FILES, ids=[n for _, n in FILES])
def test_mangled_files_never_crash(fmt: str, name: str, tmp_path: Path) -> None:
    data = shared_path(*name.split("/")).read_bytes()
    rng = random.Random(name)
    conv = converters.get(fmt)
    outcomes = {"read": 0, "refused": 0}
    refused_at: list[str | None] = []
    for n in range(40):
        path = tmp_path / f"m{n}.xml"
        path.write_bytes(_mutate(data, rng))
        try:
            ds = conv.read(str(path))
        except ConversionError as err:
            refused_at.append(err.location.file if err.location else None)
            outcomes["refused"] += 1
            continue
        conv.write(ds, str(tmp_path / f"out{n}" / ("x.xml" if fmt == "cvat" else "voc")))
        outcomes["read"] += 1
    assert outcomes["read"] > 0, outcomes
    assert outcomes["refused"] > 0, outcomes
    assert all(f is not None and f.startswith(str(tmp_path)) for f in refused_at)
