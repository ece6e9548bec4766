"""The objects Datumaro imports from a dataset, as plain JSON, for cross-checks.

`DATUMARO_OBJECTS` runs in Datumaro's own venv (the `datumaro` fixture): `sys.argv[1:]` are the
path and the Datumaro format name; it prints one JSON list of items, each with its annotations
as type, label name, attributes (as text) and coordinates rounded to 4 decimals. Mask
annotations carry their pixel count and box instead of pixels.
"""

from __future__ import annotations

from typing import Any

DATUMARO_OBJECTS = r"""
import json, sys
import datumaro as dm
import numpy as np

path, fmt = sys.argv[1], sys.argv[2]
ds = dm.Dataset.import_from(path, fmt)
cats = ds.categories().get(dm.AnnotationType.label)
names = [c.name for c in cats] if cats else []
out = []
for item in ds:
    anns = []
    for a in item.annotations:
        label = getattr(a, "label", None)
        d = {"type": a.type.name, "label": names[label] if label is not None else None,
             "attributes": {k: str(v) for k, v in sorted(a.attributes.items())}}
        if a.type.name == "mask":
            image = np.asarray(a.image)
            d["pixels"] = int(image.sum())
            d["box"] = [round(float(v), 4) for v in a.get_bbox()]
        elif hasattr(a, "points"):
            d["points"] = [round(float(p), 4) for p in a.points]
        if a.type.name == "bbox":
            d["box"] = [round(float(v), 4) for v in a.get_bbox()]
        anns.append(d)
    out.append({"id": item.id, "subset": item.subset, "annotations": anns})
print(json.dumps(out))
"""


def objects(run: Any, path: str, fmt: str) -> dict[tuple[str, str], list[str]]:
    """(subset, item id) -> the item's annotations, each as canonical JSON text, sorted."""
    import json

    got = run(DATUMARO_OBJECTS, path, fmt)
    return {
        (item["subset"], item["id"]): sorted(json.dumps(a, sort_keys=True)
                                             for a in item["annotations"])
        for item in got
    }
