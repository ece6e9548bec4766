"""`Dataset`: a manifest plus its items and annotations, in memory.

For data larger than memory use `groundtruth.iter_records` (streaming) and the Arrow batch
functions instead; `Dataset` is the convenient face for the sizes people open in a notebook.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .models import AnnotationBase, Item, Manifest

if TYPE_CHECKING:
    from .issues import Issue
    from .models import Lineage


def natural_key(record_id: str) -> tuple[int, int, str]:
    """Sort key for ids: numeric ids by value (`2` < `10`), then the rest by text."""
    if record_id.isascii() and record_id.isdigit():  # not `²`, which int() refuses
        return (0, int(record_id), "")
    return (1, 0, record_id)


TOKEN_TAG_COLUMNS = ("upos", "xpos", "deprel", "pos", "chunk")
"""Token attributes that are tags from a small set (counted by `Dataset.stats`); lemmas, forms
and features are not."""


class Dataset:
    """A labeled dataset: `manifest`, `items`, `annotations`.

    `issues` holds what reading it reported (e.g. records a converter had to skip), so a
    caller can tell a clean read from a lossy one. `lineage`, when an operation set it (merge,
    consensus, convert), is how this in-memory version was made: `save` writes it into the
    manifest; without it `save` records a plain `save` of the version it was read from.
    """

    def __init__(
        self,
        manifest: Manifest | None = None,
        items: Iterable[Item] = (),
        annotations: Iterable[AnnotationBase] = (),
        *,
        issues: Iterable[Issue] = (),
        source: str | None = None,
        source_format: str | None = None,
    ) -> None:
        self.manifest = manifest if manifest is not None else Manifest()
        self.items: list[Item] = list(items)
        self.annotations: list[AnnotationBase] = list(annotations)
        self.issues: list[Issue] = list(issues)
        self.source = source
        self.source_format = source_format
        self.lineage: Lineage | None = None

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.manifest.name!r}, items={len(self.items)}, "
            f"annotations={len(self.annotations)})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self.fingerprint() == other.fingerprint()

    __hash__ = None  # type: ignore[assignment]  # mutable container

    # -- access ---------------------------------------------------------------------------
    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def items_by_id(self) -> dict[str, Item]:
        return {it.id: it for it in self.items}

    def annotations_by_item(self) -> dict[str, list[AnnotationBase]]:
        out: dict[str, list[AnnotationBase]] = defaultdict(list)
        for ann in self.annotations:
            out[ann.item_id].append(ann)
        return dict(out)

    def records(self) -> Iterator[Item | AnnotationBase]:
        """Items first, then annotations: the order `iter_records` yields."""
        yield from self.items
        yield from self.annotations

    def sort(self) -> Dataset:
        """Sort in the canonical order (items by id; annotations by item, then id), in place."""
        self.items.sort(key=lambda it: natural_key(it.id))
        self.annotations.sort(key=lambda a: (natural_key(a.item_id), natural_key(a.id)))
        return self

    # -- content --------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Content hash of every record (see `groundtruth.fingerprint`)."""
        from .fingerprint import fingerprint_dataset

        return fingerprint_dataset(self)

    def stats(self) -> dict[str, Any]:
        """Counts per item kind, annotation type, label, annotator, split and status."""
        return {
            "items": len(self.items),
            "annotations": len(self.annotations),
            "item_kinds": dict(Counter(it.kind for it in self.items)),
            "splits": dict(Counter(it.split or "(none)" for it in self.items)),
            "annotation_types": dict(Counter(a.type for a in self.annotations)),  # type: ignore[attr-defined]
            "labels": dict(Counter(a.label or "(none)" for a in self.annotations)),
            "annotators": dict(Counter(a.annotator or "(none)" for a in self.annotations)),
            "statuses": dict(Counter(a.status or "(none)" for a in self.annotations)),
            **self._part_stats(),
            **self._token_stats(),
        }

    def _part_stats(self) -> dict[str, Any]:
        """`objects` when some annotations are parts of another (a COCO object with keypoints
        and a polygon is two annotations, the polygon marked `part_of` the keypoints)."""
        parts = sum(1 for a in self.annotations
                    if any("part_of" in ext for ext in a.extensions.values()))
        return {"objects": len(self.annotations) - parts, "parts": parts} if parts else {}

    def _token_stats(self) -> dict[str, Any]:
        """Token-level tags (CoNLL-U UPOS, XPOS, DEPREL; CoNLL POS and chunk columns): labels
        that live on the tokens, not in annotations."""
        tags: dict[str, Counter[str]] = {}
        n = 0
        for it in self.items:
            n += len(it.tokens)
            for tok in it.tokens:
                for col in TOKEN_TAG_COLUMNS:
                    value = tok.attributes.get(col)
                    if isinstance(value, str) and value != "_":
                        tags.setdefault(col, Counter())[value] += 1
        if not n:
            return {}
        return {"tokens": n, "token_tags": {col: dict(c) for col, c in tags.items()}}

    # -- files ----------------------------------------------------------------------------
    @classmethod
    def from_file(cls, url: str, **kwargs: Any) -> Dataset:
        """Same as `groundtruth.load`."""
        from .api import load

        return load(url, **kwargs)

    def to_file(self, url: str, **kwargs: Any) -> Any:
        """Same as `groundtruth.save(self, url, ...)`."""
        from .api import save

        return save(self, url, **kwargs)
