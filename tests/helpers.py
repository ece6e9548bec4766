"""Small builders shared by tests."""

from __future__ import annotations

import json
from pathlib import Path

from groundtruth import Dataset
from groundtruth.models import DatasetDocument

SPEC_EXAMPLES = Path(__file__).resolve().parents[1] / "spec" / "v1.0" / "examples"


def example(name: str) -> Dataset:
    """A valid example of the spec as a Dataset."""
    doc = DatasetDocument.model_validate(json.loads((SPEC_EXAMPLES / "valid" / f"{name}.json").read_text()))
    return Dataset(doc.manifest, doc.items, doc.annotations)


def all_examples() -> Dataset:
    """Every valid example merged into one dataset (ids are unique across them)."""
    merged = Dataset()
    sets, annotators, guidelines = {}, {}, {}
    for path in sorted((SPEC_EXAMPLES / "valid").glob("*.json")):
        ds = example(path.stem)
        merged.items += ds.items
        merged.annotations += ds.annotations
        for s in ds.manifest.taxonomy.label_sets:
            sets.setdefault(s.name + path.stem, s.model_copy(update={"name": s.name + "@" + path.stem}))
        for a in ds.manifest.annotators:
            annotators[a.id] = a
        for g in ds.manifest.guidelines:
            guidelines[g.id] = g
    merged.manifest = merged.manifest.model_copy(
        update={"annotators": list(annotators.values()), "guidelines": list(guidelines.values())}
    )
    return merged
