"""`gt croissant`: Croissant 1.1 JSON-LD metadata for a native dataset, with the RAI fields.

The data parts the manifest lists are described as two file sets (items, annotations) in
their own encoding (Parquet or JSON Lines) and two record sets whose fields extract the
columns Croissant can type: scalars, and lists of scalars as arrays (`isArray`). Columns that
are structs, nested lists or maps (`guideline`, `polygon`, `rle`, `consensus`, `tokens` ...)
are listed in the description as not described; groundtruth and pyarrow read them from the
same files. Free-form JSON objects (`attributes`, `metadata`, `extensions`) are Parquet text
columns and are typed as text; in JSON Lines they are objects and are left out too.

RAI fields are filled from what the dataset records and nothing else: the annotation platform
(annotators' organisations and tools), annotations per item (counted), the annotation protocol
(guidelines), the annotation analysis (agreement from `groundtruth.quality`), machine
annotation tools (model annotators) and data collection (the lineage and where the records
were read from). Fields the dataset cannot know (biases, demographics, social impact) are not
invented.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..io._arrow import JSON_META, SCHEMAS

if TYPE_CHECKING:
    from ..dataset import Dataset
    from ..io import NativeSource

CROISSANT_1_1 = "http://mlcommons.org/croissant/1.1"
RAI_1_0 = "http://mlcommons.org/croissant/RAI/1.0"

# The 1.1 @context, as mlcroissant 1.1 writes it.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "equivalentProperty": "cr:equivalentProperty",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

_SCALARS = {
    pa.string(): "sc:Text",
    pa.int64(): "sc:Integer",
    pa.float64(): "sc:Float",
    pa.bool_(): "sc:Boolean",
}
_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+$")
_MEDIA = {"parquet": "application/x-parquet", "jsonl": "application/jsonlines"}


def _data_type(t: pa.DataType) -> str | None:
    if pa.types.is_timestamp(t):
        return "sc:DateTime"
    return _SCALARS.get(t)


def _present(ds: Dataset) -> dict[str, set[str]]:
    """The fields that hold a value in at least one record, per kind."""
    out: dict[str, set[str]] = {"items": set(), "annotations": set()}
    for it in ds.items:
        out["items"].update(it.to_json_dict())
    for a in ds.annotations:
        out["annotations"].update(a.to_json_dict())
    return out


def _fields(kind: str, file_set: str, encoding: str,
            present: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Fields for the columns Croissant can type, and the names of those it cannot; columns no
    record fills are left out (a JSON Lines file does not have them at all)."""
    fields: list[dict[str, Any]] = []
    skipped: list[str] = []
    for f in SCHEMAS[kind]:
        if f.name not in present:
            continue
        array = pa.types.is_list(f.type)
        scalar = _data_type(f.type.value_type if array else f.type)
        if scalar is None or (f.metadata == JSON_META and encoding == "jsonl"):
            skipped.append(f.name)
            continue
        field: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"{kind}/{f.name}",
            "name": f.name,
            "dataType": scalar,
            "source": {"fileSet": {"@id": file_set}, "extract": {"column": f.name}},
        }
        if f.metadata == JSON_META:
            field["description"] = "a JSON object, as JSON text"
        if array:
            field["isArray"] = True
            field["arrayShape"] = "-1"
        fields.append(field)
    return fields, skipped


def _per_item(ds: Dataset) -> str:
    per_item = Counter(a.item_id for a in ds.annotations)
    annotators: dict[str, set[str]] = {}
    for a in ds.annotations:
        if a.annotator:
            annotators.setdefault(a.item_id, set()).add(a.annotator)
    n = len(ds.items)
    if not n:
        return "no items"
    counts = [per_item.get(it.id, 0) for it in ds.items]
    raters = [len(annotators.get(it.id, ())) for it in ds.items]
    return (f"{sum(counts) / n:.2f} annotations per item on average (min {min(counts)}, "
            f"max {max(counts)}); {sum(raters) / n:.2f} distinct annotators per item on average "
            f"(min {min(raters)}, max {max(raters)}), over {n} items")


def _agreement_texts(ds: Dataset) -> list[str]:
    from ._card import agreement_figures

    return [f"{label_set}: {text}" for label_set, text, _ in agreement_figures(ds)]


def build_croissant(src: NativeSource, ds: Dataset, *, changelog: list[str] | None = None,
                    url: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The Croissant document of the native dataset `src` (records in `ds`), and the columns
    it leaves undescribed (`kind.column`)."""
    m = src.manifest
    encoding = m.encoding or ("parquet" if any(p.path.endswith(".parquet") for p in src.parts)
                              else "jsonl")
    distribution: list[dict[str, Any]] = []
    record_sets: list[dict[str, Any]] = []
    undescribed: list[str] = []
    present = _present(ds)
    for kind in ("items", "annotations"):
        parts = src.parts_of(kind)
        if not parts:
            continue
        fs_id = f"{kind}-files"
        distribution.append({
            "@type": "cr:FileSet", "@id": fs_id, "name": fs_id,
            "description": f"the {kind} parts listed in groundtruth.json (sizes and sha256 there)",
            "encodingFormat": _MEDIA[encoding], "includes": [p.path for p in parts],
        })
        fields, skipped = _fields(kind, fs_id, encoding, present[kind])
        undescribed += [f"{kind}.{c}" for c in skipped]
        record_sets.append({
            "@type": "cr:RecordSet", "@id": kind, "name": kind,
            "description": f"one record per {kind[:-1]}",
            "key": {"@id": f"{kind}/id"}, "field": fields,
        })
    tools = sorted({x for a in m.annotators for x in (a.organization, a.tool) if x})
    models = sorted({" ".join(x for x in (a.model_name, a.model_version) if x)
                     for a in m.annotators if a.kind == "model" and a.model_name})
    protocol = [" ".join(x for x in (g.title or g.id, f"({g.id} v{g.version})", g.uri) if x)
                for g in m.guidelines]
    fingerprint = m.fingerprint or ds.fingerprint()
    description = (m.description or f"{m.name}: a groundtruth dataset") + (
        f" Columns not described here (read them with groundtruth or pyarrow): "
        f"{', '.join(undescribed)}." if undescribed else "")
    made = m.lineage.derivation if m.lineage else None
    collection = [f"groundtruth version {fingerprint}"
                  + (f" (label {m.version})" if m.version else "")
                  + (f", made by {made.operation}" + (f": {made.message}" if made.message
                                                       else "") if made else "")]
    if changelog:
        collection += changelog
    elif m.parents:
        collection.append("derived from " + ", ".join(m.parents))
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": [CROISSANT_1_1, RAI_1_0],
        "name": m.name,
        "description": description,
        "url": url or src.url,
        "identifier": fingerprint,
        "keywords": ["groundtruth", "labeled data"],
        "distribution": distribution,
        "recordSet": record_sets,
        "rai:annotationsPerItem": _per_item(ds),
        "rai:dataCollection": "; ".join(collection),
    }
    if m.version and _SEMVER.match(m.version):
        doc["version"] = m.version.removeprefix("v")  # Croissant asks for MAJOR.MINOR.PATCH
    if m.license:
        doc["license"] = m.license
    if m.created:
        doc["dateCreated"] = m.created.isoformat()
    if m.creators:
        doc["creator"] = [{"@type": "sc:Organization" if not c.organization else "sc:Person",
                           "name": c.name} for c in m.creators]
    if tools:
        doc["rai:dataAnnotationPlatform"] = tools
    if protocol:
        doc["rai:dataAnnotationProtocol"] = protocol
    if models:
        doc["rai:machineAnnotationTools"] = models
    analysis = _agreement_texts(ds)
    if analysis:
        doc["rai:dataAnnotationAnalysis"] = analysis
    return doc, undescribed
