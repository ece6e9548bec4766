"""Every annotation type of the spec's examples: renumbered ids diff as identical by content,
and a perturbed copy gives a change for each annotation, in a schema-valid document."""

from __future__ import annotations

import json
import random

import groundtruth as gt
from groundtruth import Dataset
from tests.diff.test_diff_schema import _validator
from tests.helpers import all_examples


def _renumbered(ds: Dataset) -> Dataset:
    ids = [a.id for a in ds.annotations]
    new_ids = [f"n{i}" for i in range(len(ids))]
    random.Random(3).shuffle(new_ids)
    mapping = dict(zip(ids, new_ids, strict=True))
    anns = []
    for a in ds.annotations:
        update: dict = {"id": mapping[a.id]}
        if a.type == "relation":
            update |= {"source": mapping[a.source], "target": mapping[a.target]}
        if a.sources:
            update["sources"] = [mapping.get(x, x) for x in a.sources]
        anns.append(a.model_copy(update=update))
    random.Random(4).shuffle(anns)
    return Dataset(ds.manifest, ds.items, anns)


def test_renumbering_every_type_is_no_change():
    ds = all_examples()
    result = gt.diff(ds, _renumbered(ds))
    assert result.match_by["method"] == "content"
    assert result.identical, [(c["type"], c.get("kinds")) for c in result.annotation_changes]
    assert result.summary["annotations"]["unchanged"] == len(ds.annotations)
    types = {a.type for a in ds.annotations}
    assert set(result.summary["by_type"]) == types
    assert len(types) == 13  # every annotation type of the spec is exercised


def test_perturbing_every_annotation_changes_each_one():
    ds = all_examples()
    anns = [a.model_copy(update={"status": "rejected" if a.status != "rejected" else "accepted"})
            for a in ds.annotations]
    result = gt.diff(ds, Dataset(ds.manifest, ds.items, anns))
    s = result.summary["annotations"]
    assert s["changed"] == len(ds.annotations)
    assert s["by_change"] == {"status": len(ds.annotations)}
    for fmt in ("text", "markdown", "html"):
        assert result.render(fmt)
    document = json.loads(result.render("json"))
    assert not list(_validator().iter_errors(document))
