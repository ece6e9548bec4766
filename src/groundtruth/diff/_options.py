"""The knobs of a diff, with their defaults, in one place (the API and the CLI share them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import GroundtruthError

MatchBy = Literal["auto", "id", "content"]
ItemKey = Literal["id", "sha256", "uri", "name"]

ANNOTATION_FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "label": ("label",),
    "geometry": ("bbox", "rotation", "polygon", "holes", "polyline", "keypoints", "rle", "uri",
                 "start", "end", "start_time", "end_time", "frame", "time"),
    "attributes": ("attributes",),
    "status": ("status",),
    "annotator": ("annotator",),
    "confidence": ("confidence",),
    "text": ("text", "language"),
    "value": ("value", "ranking", "scores"),
    "endpoints": ("source", "target", "directed"),
    "type": ("type",),
    "other": ("label_set", "guideline", "created", "track_id", "sources", "consensus",
              "extensions"),
}
"""Kinds of annotation change and the fields each covers (`item` is a move to another item)."""

ANNOTATION_CHANGE_KINDS = (*ANNOTATION_FIELD_GROUPS, "item")

ITEM_FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "kind": ("kind",),
    "media": ("uri", "sha256", "size", "media_type"),
    "content": ("text", "tokens", "messages", "candidates"),
    "dimensions": ("width", "height", "duration", "sample_rate", "fps", "frame_count"),
    "split": ("split",),
    "metadata": ("metadata",),
    "extensions": ("extensions",),
    "id": ("id",),
}
"""Kinds of item change and the fields each covers (`annotations`: its annotations changed)."""

ITEM_CHANGE_KINDS = (*ITEM_FIELD_GROUPS, "annotations")


@dataclass
class DiffOptions:
    """How to match and what to compare.

    Attributes:
        match_by: `id` (annotation ids are stable), `content` (match within the same item and
            type by geometry or value) or `auto` (ids when most of them identify the same
            annotation on both sides: same id, item and type).
        item_key: match items by `id`, media `sha256`, media `uri`, or file `name` (the last
            part of the uri) for re-exports that renumber items.
        iou: least IoU for boxes, polygons, masks and polylines to pair by content.
        oks: least OKS for keypoints.
        overlap: least interval overlap (intersection over union) for spans and segments.
        text_similarity: least similarity ratio for transcriptions and text answers.
        tolerance: coordinate differences up to this (pixels, characters, seconds) are not a
            geometry change (absorbs float noise from format round trips).
        ignore: fields or kinds of change to leave out: `created`, `confidence`, `geometry`,
            `attributes.occluded` (one attribute key), `item.metadata` (item fields)...
        label_map: old label -> new label, applied to the old side before matching.
        max_changes: keep at most this many change records per list (None: all); the summary
            always counts everything.
    """

    match_by: MatchBy = "auto"
    item_key: ItemKey = "id"
    iou: float = 0.5
    oks: float = 0.5
    overlap: float = 0.5
    text_similarity: float = 0.5
    tolerance: float = 1e-6
    ignore: tuple[str, ...] = ()
    label_map: dict[str, str] = field(default_factory=dict)
    max_changes: int | None = None

    def __post_init__(self) -> None:
        if self.match_by not in ("auto", "id", "content"):
            raise GroundtruthError(f"match_by must be auto, id or content, not {self.match_by!r}")
        if self.item_key not in ("id", "sha256", "uri", "name"):
            raise GroundtruthError(
                f"item_key must be id, sha256, uri or name, not {self.item_key!r}")
        for name in ("iou", "oks", "overlap", "text_similarity"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise GroundtruthError(f"{name} must be between 0 and 1, got {value}")
        self.ignore = tuple(self.ignore)
        known = set(ANNOTATION_CHANGE_KINDS) | {f for g in ANNOTATION_FIELD_GROUPS.values()
                                                for f in g}
        for name in self.ignore:
            base = name.split(".", 1)[0]
            if base not in known and base != "item":
                raise GroundtruthError(
                    f"cannot ignore {name!r}: not a field or kind of change",
                    hint="use a kind of change (" + ", ".join(ANNOTATION_CHANGE_KINDS)
                    + "), an annotation field (created, confidence, ...), `attributes.KEY`, "
                    "or `item.FIELD`")

    def threshold(self, ann_type: str) -> float:
        """Least similarity for two annotations of `ann_type` to be paired by content."""
        if ann_type in ("bbox", "polygon", "mask", "polyline"):
            return self.iou
        if ann_type == "keypoints":
            return self.oks
        if ann_type in ("span", "segment"):
            return self.overlap
        if ann_type in ("transcription", "text"):
            return self.text_similarity
        return 0.5  # classification/rating/ranking flips score 0.5, relations 1.0

    def ignored_annotation_fields(self) -> set[str]:
        out: set[str] = set()
        for name in self.ignore:
            if name in ANNOTATION_FIELD_GROUPS:
                out.update(ANNOTATION_FIELD_GROUPS[name])
            elif "." not in name:
                out.add(name)
        return out

    def ignored_attribute_keys(self) -> set[str]:
        return {n.split(".", 1)[1] for n in self.ignore if n.startswith("attributes.")}

    def ignored_item_fields(self) -> set[str]:
        out: set[str] = set()
        for name in self.ignore:
            if name.startswith("item."):
                rest = name[5:]
                out.update(ITEM_FIELD_GROUPS.get(rest, (rest,)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "match_by": self.match_by, "item_key": self.item_key, "iou": self.iou,
            "oks": self.oks, "overlap": self.overlap, "text_similarity": self.text_similarity,
            "tolerance": self.tolerance, "ignore": list(self.ignore),
            "label_map": dict(self.label_map), "max_changes": self.max_changes,
        }
