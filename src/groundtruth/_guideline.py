"""The `guideline=ID@VERSION` reading option: which guideline a delivery was made under.

Most tool exports (COCO, CoNLL, Label Studio, ...) cannot say under which written guideline
their labels were made. The person importing a delivery knows; this option records it on every
annotation by a human (or unnamed) annotator that names none, and adds the guideline to the
manifest, so `dataset.annotator-without-guideline` goes quiet for a reason, not by muting it.
"""

from __future__ import annotations

import json
from typing import Any

from .dataset import Dataset
from .errors import UnknownOptionError
from .models import Guideline
from .models.annotations import GuidelineRef

__all__ = ["attach_guideline", "parse_guideline"]


def parse_guideline(value: Any) -> GuidelineRef:
    """`"ner-rules@2.1"` -> id `ner-rules`, version `2.1`; a usage error for anything else."""
    if isinstance(value, str):
        gid, sep, version = value.rpartition("@")
        if sep and gid.strip() and version.strip():
            return GuidelineRef(id=gid.strip(), version=version.strip())
    raise UnknownOptionError(
        f"option guideline takes ID@VERSION, got {json.dumps(value, default=str)}",
        hint="name the guideline and its version, e.g. guideline=ner-rules@2.1",
    )


def attach_guideline(ds: Dataset, ref: GuidelineRef) -> int:
    """Record `ref` on the annotations that name no guideline and are not by a model, rule or
    consensus annotator; add it to the manifest's guidelines. Returns how many were set."""
    machine = {a.id for a in ds.manifest.annotators if a.kind != "human"}
    changed = 0
    for ann in ds.annotations:
        if ann.guideline is None and ann.annotator not in machine:
            ann.guideline = ref
            changed += 1
    if not any(g.id == ref.id and g.version == ref.version for g in ds.manifest.guidelines):
        ds.manifest.guidelines.append(Guideline(id=ref.id, version=ref.version or ""))
    return changed
