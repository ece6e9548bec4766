"""`gt card`: a Hugging Face dataset card (README.md) for a native dataset.

The YAML header carries what the Hub indexes (licence, task categories, size category, tags)
and `configs` that point `datasets.load_dataset(FOLDER)` at the data parts the manifest lists:
one config per record kind (`annotations`, the default, and `items`), each with one split
`all` (a groundtruth split is a column, `split` on items, not a file). For Parquet datasets
`dataset_info` declares every column's type so map columns load too (see `_hf_features`).
The body renders the manifest (taxonomy, annotators, guidelines, splits, lineage) and figures
computed from the records (counts, inter-annotator agreement).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from ..diff import md, md_code, plain
from ..errors import GroundtruthError
from ..io import MANIFEST
from ..io._arrow import SCHEMAS
from ._hf_features import hf_features

if TYPE_CHECKING:
    from ..dataset import Dataset
    from ..io import NativeSource

HF_SPLIT = "full"  # `all` is reserved by `datasets` (the union of splits)

# Licence ids the Hub knows (lower-case SPDX for the common ones); anything else is `other`
# with the original name kept in `license_name`.
_HF_LICENSES = {
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0",
    "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0",
    "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0",
    "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0", "cdla-sharing-1.0",
    "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0", "epl-2.0",
    "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0", "lgpl",
    "lgpl-2.1", "lgpl-3.0", "isc", "lppl-1.3c", "ms-pl", "mpl-2.0", "odc-by", "odbl",
    "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa", "unlicense", "zlib", "pddl",
    "lgpl-lr", "deepfloyd-if-license", "llama2", "llama3", "unknown", "other",
}

# (item kind, annotation type) -> Hub task category; `None` as kind matches any kind.
_TASKS: dict[tuple[str | None, str], str] = {
    ("text", "classification"): "text-classification",
    ("conversation", "classification"): "text-classification",
    ("image", "classification"): "image-classification",
    ("audio", "classification"): "audio-classification",
    ("video", "classification"): "video-classification",
    (None, "bbox"): "object-detection",
    (None, "polygon"): "image-segmentation",
    (None, "mask"): "image-segmentation",
    (None, "keypoints"): "keypoint-detection",
    (None, "span"): "token-classification",
    ("audio", "transcription"): "automatic-speech-recognition",
    ("image", "transcription"): "image-to-text",
    ("document", "transcription"): "image-to-text",
    ("image", "text"): "image-to-text",
    ("text", "text"): "text-generation",
    ("conversation", "text"): "text-generation",
    ("audio", "segment"): "audio-classification",
    ("video", "segment"): "video-classification",
}

_SIZES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
          (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"),
          (1_000_000_000, "100M<n<1B")]


class CardError(GroundtruthError):
    """The dataset cannot be published as asked (e.g. it is not a native dataset)."""


def size_category(n: int) -> str:
    """The Hub's size bucket for `n` examples."""
    return next((name for limit, name in _SIZES if n < limit), "n>1B")


def hf_license(spdx: str | None) -> dict[str, str]:
    """The card's licence keys for an SPDX id (`other` + `license_name` when the Hub lacks it)."""
    if not spdx:
        return {"license": "unknown"}
    low = spdx.strip().lower()
    if low in _HF_LICENSES:
        return {"license": low}
    return {"license": "other", "license_name": spdx, "license_link": "LICENSE"}


def task_categories(ds: Dataset) -> list[str]:
    """Hub task categories implied by which annotation types sit on which item kinds."""
    kinds = {it.id: it.kind for it in ds.items}
    found: set[str] = set()
    for kind, atype in {(kinds.get(a.item_id), a.type) for a in ds.annotations}:  # type: ignore[attr-defined]
        task = _TASKS.get((kind, atype)) or _TASKS.get((None, atype))
        if task:
            found.add(task)
    return sorted(found)


@dataclass
class Card:
    """A rendered card: the YAML header as data, and the whole README text."""

    header: dict[str, Any]
    text: str
    notes: list[str] = field(default_factory=list)


def _configs(
    src: NativeSource,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[str]]]:
    configs: list[dict[str, Any]] = []
    infos: list[dict[str, Any]] = []
    left_out: dict[str, list[str]] = {}
    for kind in ("annotations", "items"):
        paths = [p.path for p in src.parts_of(kind)]
        if not paths:
            continue
        cfg: dict[str, Any] = {"config_name": kind,
                               "data_files": [{"split": HF_SPLIT, "path": paths}]}
        if kind == "annotations":
            cfg["default"] = True
        if all(p.endswith(".parquet") for p in paths):
            features, dropped = hf_features(SCHEMAS[kind])
            if dropped:
                cfg["columns"] = [f["name"] for f in features]
                left_out[kind] = dropped
            infos.append({"config_name": kind, "features": features})
        configs.append(cfg)
    return configs, infos, left_out


class _Ours(str):
    """Text groundtruth wrote itself (a hash, a date, a count): shown as is, not escaped."""

    __slots__ = ()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, _Ours | int | float):
        return str(v)
    return md(v)  # from the dataset: inert


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return [*out, ""]


def agreement_figures(ds: Dataset) -> list[tuple[str, str, bool]]:
    """(label set, figures as one line, whether the line is all ours) for every label set two or
    more annotators labelled, from `groundtruth.quality.agreement`."""
    from ..quality import AgreementDataError, AgreementInputError, agreement

    out: list[tuple[str, str, bool]] = []
    raters: dict[str, set[str]] = {}
    for a in ds.annotations:
        if a.annotator and a.label_set:
            raters.setdefault(a.label_set, set()).add(a.annotator)
    for label_set, who in sorted(raters.items()):
        if len(who) < 2:
            continue
        try:
            report = agreement(ds, label_set)
        except (AgreementInputError, AgreementDataError) as exc:
            out.append((label_set, f"not computed ({exc})", False))
            continue
        figures = []
        for key, value in report.data.items():
            v = value.get("value", value.get("mean")) if isinstance(value, dict) else None
            if isinstance(v, int | float):
                figures.append(f"{key.replace('_', ' ')} {v:.3f}")
        if figures:
            out.append((label_set, f"{report.data.get('n_annotators')} annotators, unit: "
                                   f"{report.data.get('unit')}: " + ", ".join(figures), True))
    return out


def _agreement_lines(ds: Dataset) -> list[str]:
    return [f"- {md_code(label_set)}: {text if ours else md(text)}"
            for label_set, text, ours in agreement_figures(ds)]


def build_card(src: NativeSource, ds: Dataset, *, changelog: str | None = None) -> Card:
    """The dataset card of the native dataset `src` (whose records `ds` holds)."""
    m = src.manifest
    configs, infos, left_out = _configs(src)
    header: dict[str, Any] = {
        **hf_license(m.license),
        "pretty_name": m.name,
        "task_categories": task_categories(ds),
        "size_categories": [size_category(len(ds.items))],
        "tags": ["groundtruth"],
        "configs": configs,
    }
    if not header["task_categories"]:
        del header["task_categories"]
    if infos:
        header["dataset_info"] = infos
    notes = []
    if not infos:
        notes.append("JSONL parts: `datasets` infers the column types; a column whose values "
                     "change type between records will not load (write Parquet for the Hub)")
    stats = ds.stats()
    body: list[str] = [f"# {md(m.name)}", ""]
    if m.description:  # the publisher's own prose: Markdown kept, terminal controls not
        body += [plain(m.description, multiline=True), ""]
    body += ["## Version", ""]
    body += _table(["", ""], [
        ["version", m.version or "(no label)"],
        ["fingerprint", _Ours(m.fingerprint or ds.fingerprint())],
        ["groundtruth spec", _Ours(m.groundtruth)],
        ["created", _Ours(m.created.isoformat()) if m.created else None],
        ["licence", m.license or _Ours("not stated")],
        ["encoding", _Ours(m.encoding) if m.encoding else None],
    ])
    body += ["## Contents", "",
             f"{stats['items']} items and {stats['annotations']} annotations.", ""]
    for key, title in (("item_kinds", "item kind"), ("splits", "split"),
                       ("annotation_types", "annotation type"), ("statuses", "status")):
        counts: dict[str, int] = stats[key]
        if counts:
            body += _table([title, "count"],
                           [[k, v] for k, v in sorted(counts.items(), key=lambda kv: -kv[1])])
    body += ["## Label taxonomy", ""]
    per_label = Counter((a.label_set, a.label) for a in ds.annotations)
    if not m.taxonomy.label_sets:
        body += ["The manifest declares no label sets.", ""]
    for s in m.taxonomy.label_sets:
        types = ", ".join(s.annotation_types) or "any type"
        body += [f"### {md_code(s.name)} ({md(types)}; {s.scale})", ""]
        if s.description:
            body += [s.description, ""]
        body += _table(["label", "description", "parent", "annotations"],
                       [[lb.name, lb.description, lb.parent, per_label.get((s.name, lb.name), 0)]
                        for lb in s.labels])
    body += ["## Annotators", ""]
    per_annotator = Counter(a.annotator for a in ds.annotations)
    if m.annotators:
        body += _table(
            ["id", "kind", "organisation", "expertise", "model", "annotations"],
            [[a.id, _Ours(a.kind), a.organization, a.expertise,
              " ".join(x for x in (a.model_name, a.model_version) if x) or None,
              per_annotator.get(a.id, 0)] for a in m.annotators])
    else:
        body += ["The manifest declares no annotators.", ""]
    body += ["## Guidelines", ""]
    if m.guidelines:
        body += _table(["id", "version", "title", "uri", "sha256"],
                       [[g.id, g.version, g.title, g.uri, g.sha256] for g in m.guidelines])
    else:
        body += ["No labeling guideline is recorded.", ""]
    body += ["## Agreement", ""]
    figures = _agreement_lines(ds)
    body += [*figures, ""] if figures else [
        "No label set was labelled by two or more annotators: no agreement figures.", ""]
    if m.splits:
        body += ["## Splits", ""]
        body += _table(["split", "description", "items"],
                       [[s.name, s.description, stats["splits"].get(s.name, 0)]
                        for s in m.splits])
    body += ["## Lineage", ""]
    if changelog:
        body += [changelog.removeprefix("## Changelog").strip(), ""]
    elif m.parents:
        body += ["Derived from:", "", *[f"- {md_code(p)}" for p in m.parents], ""]
    else:
        body += ["No parent version is recorded.", ""]
    body += [
        "## Loading", "",
        (f"The folder is a groundtruth dataset (`{MANIFEST}` is its manifest). With Hugging "
         "Face `datasets` (one split, `full`; the groundtruth split of an item is its `split` "
         "column):"), "",
        "```python",
        "from datasets import load_dataset",
        "annotations = load_dataset(PATH)             # the default config",
        'items = load_dataset(PATH, "items")',
        "```", "",
        "With groundtruth: `groundtruth.load(PATH)`; `gt info PATH`.", "",
    ]
    if left_out:
        body += ["`datasets` cannot read Arrow map columns, so its view leaves out "
                 + "; ".join(f"{kind}: " + ", ".join(md_code(c) for c in cols)
                             for kind, cols in left_out.items())
                 + ". groundtruth, pyarrow, DuckDB and pandas read every column.", ""]
    front = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000)
    return Card(header=header, text=f"---\n{front}---\n\n" + "\n".join(body).rstrip() + "\n",
                notes=notes)
