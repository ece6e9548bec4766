"""Fixtures for the CoNLL tests: the real files in /work/shared/data/conll, read in place."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def conll_data(shared_data: Path) -> Path:
    """The folder of real CoNLL files (../shared/data/conll); skips the test when absent."""
    folder = shared_data / "conll"
    if not folder.is_dir():
        pytest.skip(f"real data not available: {folder} (see SOURCES.md)")
    return folder


@pytest.fixture
def column_sentences(conll_data: Path):
    """`name -> sentences of split lines` over the real files (DOCSTART lines left out)."""
    return lambda name: read_column_sentences(conll_data / name)


def read_column_sentences(path: Path) -> list[list[list[str]]]:
    """A column file as sentences of split lines (reference reader for tests only)."""
    sentences: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if cols[0] == "-DOCSTART-":
            continue
        current.append(cols)
    if current:
        sentences.append(current)
    return sentences
