"""The manifest (`groundtruth.json`): what a dataset is, who labelled it, under which rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ..spec import SPEC_VERSION
from ._base import Extensions, Id, JsonObject, Model, Timestamp

MeasurementLevel = Literal["nominal", "ordinal", "interval", "ratio"]
AnnotatorKind = Literal["human", "model", "rule", "consensus", "adjudicator"]
PartKind = Literal["items", "annotations"]


class AttributeDef(Model):
    """An attribute annotations may carry (e.g. `occluded: bool`)."""

    name: Id
    type: Literal["boolean", "integer", "number", "string", "enum"] = Field(
        default="string", description="JSON type of the value; `enum` takes one of `values`."
    )
    values: list[str] = Field(default_factory=list, description="Allowed values for `enum`.")
    description: str | None = None


class Label(Model):
    """One label of a label set. The name is the label's key everywhere in the dataset."""

    name: Id
    description: str | None = None
    parent: str | None = Field(
        default=None, description="Name of the parent label in the same set (label hierarchy)."
    )
    group: str | None = Field(
        default=None, description="A grouping with no hierarchy meaning (COCO `supercategory`)."
    )
    keypoints: list[str] = Field(
        default_factory=list, description="Names of the keypoints, in order, for keypoint labels."
    )
    skeleton: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list,
        description="Edges between keypoints as 0-based index pairs into `keypoints`.",
    )
    attributes: list[AttributeDef] = Field(
        default_factory=list, description="Attributes allowed on annotations with this label."
    )
    value: float | None = Field(
        default=None, description="Numeric value of an ordinal label (e.g. a Likert point)."
    )
    extensions: Extensions = Field(default_factory=dict)


class LabelSet(Model):
    """The labels one task uses: e.g. `ner` for spans, `objects` for boxes."""

    name: Id
    description: str | None = None
    annotation_types: list[str] = Field(
        default_factory=list,
        description="Annotation types that take labels from this set; empty means any.",
    )
    labels: list[Label] = Field(default_factory=list)
    multi_label: bool = Field(
        default=False, description="Whether one item may carry several classifications."
    )
    scale: MeasurementLevel = Field(
        default="nominal",
        description="Level of measurement of the labels or ratings: drives agreement statistics.",
    )
    min_value: float | None = Field(default=None, description="Lowest rating of a rating scale.")
    max_value: float | None = Field(default=None, description="Highest rating of a rating scale.")
    attributes: list[AttributeDef] = Field(
        default_factory=list, description="Attributes allowed on every annotation of this set."
    )
    extensions: Extensions = Field(default_factory=dict)


class Taxonomy(Model):
    """Every label set of the dataset."""

    label_sets: list[LabelSet] = Field(default_factory=list)


class Annotator(Model):
    """Who (or what) made annotations. No personal data is needed: ids may be pseudonyms."""

    id: Id
    kind: AnnotatorKind
    name: str | None = Field(default=None, description="Display name or pseudonym.")
    organization: str | None = Field(default=None, description="Vendor or organisation.")
    expertise: str | None = Field(default=None, description="e.g. `radiologist`, `crowd`.")
    model_name: str | None = Field(default=None, description="For `model` annotators.")
    model_version: str | None = None
    method: str | None = Field(
        default=None,
        description="For `rule` and `consensus` annotators: how labels were derived "
        "(e.g. `majority`, `dawid-skene`); for `adjudicator` ones, e.g. `review`.",
    )
    tool: str | None = Field(default=None, description="Labeling tool the annotations came from.")
    metadata: JsonObject = Field(default_factory=dict)


def _omit_empty(value: list[Any]) -> bool:
    # Left out of dumps when empty, so the fingerprint of a manifest written before these
    # fields existed does not change (the manifest's content is hashed as dumped).
    return not value


class GuidelineSection(Model):
    """One section (rule) of a guideline, so decisions and disputes can cite it."""

    id: Id
    title: str | None = None
    text: str | None = Field(default=None, description="The rule's text (Markdown).")
    uri: str | None = Field(default=None, description="Where the section is, e.g. `guide.pdf#p4`.")
    labels: list[str] = Field(
        default_factory=list, exclude_if=_omit_empty,
        description="Labels the section rules on: disputes about them are counted against it "
        "and reviewers are shown it.",
    )


class WorkedExample(Model):
    """An item of the dataset the guideline settles: the answer it expects, and why."""

    item_id: Id = Field(description="Id of an item of the dataset.")
    expected: list[JsonObject] = Field(
        min_length=1,
        description="The expected annotations, as annotation objects without `id` and "
        "`item_id` (e.g. `{\"type\": \"classification\", \"label\": \"neg\"}`).",
    )
    section: str | None = Field(default=None, description="Id of the section it illustrates.")
    note: str | None = None


class Guideline(Model):
    """A versioned labeling guideline annotations were made under."""

    id: Id
    version: str
    title: str | None = None
    uri: str | None = None
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="Hash of the guideline document."
    )
    examples: list[str] = Field(
        default_factory=list, description="URIs or item ids of the worked examples it cites."
    )
    sections: list[GuidelineSection] = Field(
        default_factory=list, exclude_if=_omit_empty,
        description="The guideline's sections (rules), by id.",
    )
    worked_examples: list[WorkedExample] = Field(
        default_factory=list, exclude_if=_omit_empty,
        description="Items of the dataset with the answer the guideline expects.",
    )

    def section(self, section_id: str) -> GuidelineSection | None:
        return next((s for s in self.sections if s.id == section_id), None)


class Split(Model):
    name: Id
    description: str | None = None


PART_PATH_PATTERN = (
    r"^(?![A-Za-z][A-Za-z0-9+.-]*:)(?!/)(?!.*\\)(?!(?:.*/)?\.\.?(?:/|$))(?!.*//)"
    r"[^\x00-\x1f\x7f]+\.(?:jsonl|parquet)$"
)
"""The rule for a part path as a JSON Schema (ECMA 262) pattern: relative, `/`-separated, no
`.`/`..` or empty segment, no scheme or drive, no backslash or control character, a `.jsonl`
or `.parquet` name. Readers check it (with a located error) before opening anything; the model
leaves it to them, so a bad path is reported where it is rather than as a parse failure."""


class Part(Model):
    """One data file of the dataset, listed so a reader can tell a whole dataset from a torn one."""

    path: str = Field(
        description="Path relative to the dataset folder, inside it: no absolute path, `..`, "
                    "URL or backslash (readers refuse such a part before opening anything).",
        json_schema_extra={"pattern": PART_PATH_PATTERN},
    )
    kind: PartKind
    records: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Creator(Model):
    name: str
    organization: str | None = None
    role: str | None = None


class ParentRef(Model):
    """A version this one was made from: a native dataset (by fingerprint) or a foreign file."""

    fingerprint: str | None = Field(
        default=None, pattern=r"^sha256:[0-9a-f]{64}$",
        description="The parent's fingerprint (native parents, and foreign ones once read).",
    )
    name: str | None = None
    version: str | None = Field(default=None, description="The parent's version label.")
    source: str | None = Field(
        default=None, description="Where it was read from (path or URL, as given).",
    )
    format: str | None = Field(default=None, description="`groundtruth` or a converter name.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$",
        description="Hash of a foreign source file, as read.",
    )
    role: Literal["parent", "merge-base"] = Field(
        default="parent", description="`merge-base`: the common base of a merge (not a parent)."
    )


class Derivation(Model):
    """How a version was made."""

    operation: str = Field(
        description="`convert`, `save`, `consensus`, `adjudicate`, `merge`, `export`, ..."
    )
    options: JsonObject = Field(default_factory=dict, description="The operation's options.")
    tool: str = Field(default="groundtruth", description="The program that wrote it.")
    tool_version: str | None = Field(default=None, description="Its version.")
    time: Timestamp | None = Field(default=None, description="When it was written (UTC).")
    message: str | None = Field(default=None, description="The author's note (`-m`).")


class ChangeCounts(Model):
    added: int = Field(default=0, ge=0)
    removed: int = Field(default=0, ge=0)
    changed: int = Field(default=0, ge=0)


class ChangeSummary(Model):
    """Counts of records added, removed and changed against the first parent."""

    against: str | None = Field(
        default=None, pattern=r"^sha256:[0-9a-f]{64}$",
        description="Fingerprint of the version the counts are against (the first parent).",
    )
    items: ChangeCounts = Field(default_factory=ChangeCounts)
    annotations: ChangeCounts = Field(default_factory=ChangeCounts)


class Lineage(Model):
    """Where a version came from: its parents, how it was derived, what changed."""

    parents: list[ParentRef] = Field(default_factory=list)
    derivation: Derivation
    changes: ChangeSummary | None = None


class Manifest(Model):
    """The dataset's `groundtruth.json`."""

    groundtruth: str = Field(default=SPEC_VERSION, description="Spec version of this dataset.")
    name: str = "untitled"
    description: str | None = None
    license: str | None = None
    version: str | None = Field(default=None, description="Human version label, e.g. `v2`.")
    fingerprint: str | None = Field(
        default=None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="Content hash of every record (see the spec); names this version.",
    )
    parents: list[str] = Field(
        default_factory=list, description="Fingerprints of the versions this one derives from."
    )
    created: Timestamp | None = None
    lineage: Lineage | None = Field(
        default=None,
        description="How this version was made (set by the writing operation); not part of "
        "the fingerprint.",
    )
    creators: list[Creator] = Field(default_factory=list)
    taxonomy: Taxonomy = Field(default_factory=Taxonomy)
    annotators: list[Annotator] = Field(default_factory=list)
    guidelines: list[Guideline] = Field(default_factory=list)
    splits: list[Split] = Field(default_factory=list)
    encoding: Literal["jsonl", "parquet"] | None = Field(
        default=None, description="Encoding of the data parts; set by the writer."
    )
    parts: list[Part] = Field(
        default_factory=list, description="Every data file, with size and hash; set by the writer."
    )
    metadata: JsonObject = Field(default_factory=dict)
    extensions: Extensions = Field(default_factory=dict)

    def label_set(self, name: str) -> LabelSet | None:
        return next((s for s in self.taxonomy.label_sets if s.name == name), None)

    def annotator(self, annotator_id: str) -> Annotator | None:
        return next((a for a in self.annotators if a.id == annotator_id), None)

    def guideline(self, guideline_id: str, version: str | None = None) -> Guideline | None:
        """The guideline with this id (and version; the last listed when none is given)."""
        found = [g for g in self.guidelines
                 if g.id == guideline_id and (version is None or g.version == version)]
        return found[-1] if found else None
