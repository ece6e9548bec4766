"""Annotations: judgments about items, a tagged union on `type`.

Geometry is in absolute pixel floats with the origin at the top-left corner of the image;
pixel (c, r) covers [c, c+1) x [r, r+1). Text offsets are Unicode code points over the item's
`text`, end exclusive. Times are seconds from the start of the media.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter, model_validator

from ._base import Box, Extensions, Id, JsonObject, Model, Timestamp

Status = Literal["draft", "submitted", "accepted", "rejected", "ignored", "cancelled", "adjudicated"]


class GuidelineRef(Model):
    """Which guideline (and which version of it) an annotation was made under."""

    id: Id
    version: str | None = None


class ConsensusInfo(Model):
    """How a consensus annotation was reached (annotator kind `consensus`)."""

    method: str = Field(description="`majority`, `weighted`, `dawid-skene`, ...")
    votes: dict[str, float] = Field(
        default_factory=dict, description="Label -> (weighted) votes or posterior probability."
    )
    agreement: float | None = Field(
        default=None, description="Share of the winning label among the votes, in [0, 1]."
    )
    needs_review: bool = Field(
        default=False, description="A tie or low agreement: adjudicate rather than trust."
    )
    reason: str | None = Field(default=None, description="Why it needs review.")


def _omit_empty(value: list[str]) -> bool:
    return not value


Decision = Literal["accepted", "merged", "edited", "relabelled", "guideline-unclear"]
"""What an adjudicator decided about disputed annotations (spec section 5.5)."""

DECISIONS: tuple[str, ...] = ("accepted", "merged", "edited", "relabelled", "guideline-unclear")


class AdjudicationInfo(Model):
    """How an adjudication was decided (annotator kind `adjudicator`).

    `sources` of the annotation lists every annotation the decision considered; `accepted` and
    `overruled` split them. The guideline applied is the annotation's `guideline`, the time its
    `created`.
    """

    decision: Decision = Field(
        description="`accepted` (one version as it was), `merged` (several versions combined), "
        "`edited` (a version changed: geometry, boundaries), `relabelled` (a version with "
        "another label), `guideline-unclear` (no answer: the guideline does not settle it)."
    )
    accepted: list[Id] = Field(
        default_factory=list, exclude_if=_omit_empty,
        description="Ids of the source annotations whose version was kept.",
    )
    overruled: list[Id] = Field(
        default_factory=list, exclude_if=_omit_empty,
        description="Ids of the source annotations decided against.",
    )
    rationale: str | None = Field(default=None, description="Why; the reviewer's note.")
    section: str | None = Field(
        default=None, description="Id of the guideline section the decision applies or questions."
    )
    reviewer: str | None = Field(
        default=None, description="Who decided (a person or pseudonym; `annotator` is the "
        "adjudicator annotator the decision is recorded under)."
    )
    decision_id: str | None = Field(
        default=None, description="Id of the decision in the decisions log it was built from."
    )


def _require_type(schema: JsonObject) -> None:
    # `type` has a default so `BBox(...)` needs no `type=`; in a document it is the union's tag
    # and must be present, as the models require: say so in the schema too.
    if "type" in schema.get("properties", {}):
        schema["required"] = [*schema.get("required", []), "type"]


def _mask_schema(schema: JsonObject) -> None:
    _require_type(schema)
    schema["oneOf"] = [{"required": ["rle"]}, {"required": ["uri"]}]


class AnnotationBase(Model):
    """What every annotation carries: identity, target, label and provenance."""

    model_config = ConfigDict(json_schema_extra=_require_type)

    id: Id
    item_id: Id
    label: str | None = Field(default=None, description="Label name from the taxonomy.")
    label_set: str | None = Field(
        default=None, description="Label set the label belongs to, where it is ambiguous."
    )
    annotator: str | None = Field(default=None, description="Annotator id from the manifest.")
    guideline: GuidelineRef | None = None
    created: Timestamp | None = None
    confidence: float | None = Field(
        default=None, description="Annotator's confidence or model score, in [0, 1]."
    )
    status: Status | None = None
    attributes: JsonObject = Field(default_factory=dict)
    frame: int | None = Field(default=None, ge=0, description="Video frame index.")
    time: float | None = Field(default=None, ge=0, description="Video or audio time, seconds.")
    track_id: str | None = Field(default=None, description="Object track across frames.")
    sources: list[str] = Field(
        default_factory=list,
        description="Ids of the annotations this one was derived from (consensus, adjudication).",
    )
    consensus: ConsensusInfo | None = None
    adjudication: AdjudicationInfo | None = None
    extensions: Extensions = Field(default_factory=dict)

    def to_json_dict(self) -> JsonObject:
        # `type` right after the ids: the field a reader of a JSONL line looks for first.
        data = super().to_json_dict()
        head: JsonObject = {k: data.pop(k) for k in ("id", "item_id", "type") if k in data}
        return {**head, **data}


class Classification(AnnotationBase):
    """A label for the whole item (or frame). Multi-label items carry several."""

    type: Literal["classification"] = "classification"
    label: str


class BBox(AnnotationBase):
    """An axis-aligned box `[x, y, w, h]`, optionally rotated."""

    type: Literal["bbox"] = "bbox"
    bbox: Box = Field(description="[x, y, width, height], pixels.")
    rotation: float | None = Field(
        default=None, description="Degrees clockwise about the box centre."
    )


class Polygon(AnnotationBase):
    """One or more parts (unioned) minus holes. Each ring is a flat `[x1, y1, x2, y2, ...]`."""

    type: Literal["polygon"] = "polygon"
    polygon: list[list[float]] = Field(min_length=1, description="Parts, each a flat xy list.")
    holes: list[list[float]] = Field(
        default_factory=list, description="Rings subtracted from the union of the parts."
    )
    bbox: Box | None = Field(
        default=None, description="The instance's box where the source states one."
    )


class Polyline(AnnotationBase):
    """One or more open lines, each a flat `[x1, y1, x2, y2, ...]`."""

    type: Literal["polyline"] = "polyline"
    polyline: list[list[float]] = Field(min_length=1)


class Keypoints(AnnotationBase):
    """Keypoints as flat `[x1, y1, v1, ...]` triplets in the order the label's schema names them.

    `v`: 0 not labelled (x = y = 0), 1 labelled but not visible, 2 labelled and visible.
    (Triplet count and visibility values are checked by semantic validation: JSON Schema
    cannot state them for a flat list.)
    """

    type: Literal["keypoints"] = "keypoints"
    keypoints: list[float]
    bbox: Box | None = None


class Rle(Model):
    """COCO run-length encoding: column-major, runs alternate starting with 0s.

    `counts` is a list of ints (uncompressed) or COCO's compressed ASCII string.
    """

    size: list[int] = Field(min_length=2, max_length=2, description="[height, width].")
    counts: list[int] | str


class Mask(AnnotationBase):
    """A pixel mask, as COCO RLE or as a URI of a mask image."""

    model_config = ConfigDict(json_schema_extra=_mask_schema)

    type: Literal["mask"] = "mask"
    rle: Rle | None = None
    uri: str | None = None
    bbox: Box | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Mask:
        if (self.rle is None) == (self.uri is None):
            raise ValueError("a mask needs exactly one of `rle` and `uri`")
        return self


class Span(AnnotationBase):
    """A stretch of the item's text: `text[start:end]`, code points, end exclusive."""

    type: Literal["span"] = "span"
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str | None = Field(default=None, description="The covered text, for checking.")


class Relation(AnnotationBase):
    """A labelled link between two annotations of the same item."""

    type: Literal["relation"] = "relation"
    source: Id = Field(description="Annotation id the relation starts at.")
    target: Id = Field(description="Annotation id the relation points to.")
    directed: bool = True


class Transcription(AnnotationBase):
    """What is said or written in the item (or in a time interval of it)."""

    type: Literal["transcription"] = "transcription"
    text: str
    start_time: float | None = Field(default=None, ge=0)
    end_time: float | None = Field(default=None, ge=0)
    language: str | None = None


class Segment(AnnotationBase):
    """A labelled time interval of audio or video, seconds."""

    type: Literal["segment"] = "segment"
    start_time: float = Field(ge=0)
    end_time: float = Field(ge=0)


class Rating(AnnotationBase):
    """A score on the label set's scale (`label` names the criterion, if any)."""

    type: Literal["rating"] = "rating"
    value: float


class Ranking(AnnotationBase):
    """An order over the item's candidates, best first; a group holds ties.

    A preference pair is `[["chosen"], ["rejected"]]`.
    """

    type: Literal["ranking"] = "ranking"
    ranking: list[list[Id]] = Field(min_length=1)
    scores: dict[str, float] = Field(
        default_factory=dict, description="Per-candidate scores, where the source gives them."
    )


class TextAnswer(AnnotationBase):
    """Free text about the item: a caption, an answer, a comment."""

    type: Literal["text"] = "text"
    text: str
    language: str | None = None


Annotation = Annotated[
    Classification
    | BBox
    | Polygon
    | Polyline
    | Keypoints
    | Mask
    | Span
    | Relation
    | Transcription
    | Segment
    | Rating
    | Ranking
    | TextAnswer,
    Field(discriminator="type"),
]
"""Any annotation, chosen by its `type`."""

ANNOTATION_TYPES: dict[str, type[AnnotationBase]] = {
    "classification": Classification,
    "bbox": BBox,
    "polygon": Polygon,
    "polyline": Polyline,
    "keypoints": Keypoints,
    "mask": Mask,
    "span": Span,
    "relation": Relation,
    "transcription": Transcription,
    "segment": Segment,
    "rating": Rating,
    "ranking": Ranking,
    "text": TextAnswer,
}

annotation_adapter: TypeAdapter[Annotation] = TypeAdapter(Annotation)
"""Validates a dict or JSON bytes into the right annotation class."""


