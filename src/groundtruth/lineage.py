"""Lineage: what a write records about where a version came from.

Every operation that writes a native dataset puts a `lineage` object in its manifest: the
parents (fingerprint, name, version label, where they were read from; for a foreign file its
format and SHA-256), the derivation (operation, options, groundtruth version, time, message)
and, where it is cheap, counts of what changed against the first parent. `manifest.parents`
keeps the parents' fingerprints, as before. Lineage is manifest content that names no labelled
data, so the fingerprint does not cover it (spec section 4): writing the same records twice gives
one fingerprint and two lineages.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .models import ChangeCounts, ChangeSummary, Derivation, Lineage, Manifest, ParentRef

if TYPE_CHECKING:
    from .dataset import Dataset
    from .diff import DatasetDiff
    from .quality import ConsensusResult

MAX_OPTION_TEXT = 2000


def _source_sha256(source: str) -> str | None:
    """SHA-256 of a foreign source when it is one file (a folder has no single hash)."""
    from .io import resolve

    try:
        fs, path = resolve(source)
        if not fs.isfile(path):
            return None
        sha = hashlib.sha256()
        with fs.open(path, "rb") as f:
            while chunk := f.read(1 << 22):
                sha.update(chunk)
        return sha.hexdigest()
    except (OSError, ValueError):
        return None  # the source is gone or unreadable: lineage names it without a hash


def safe_source(source: str | None) -> str | None:
    """`source` without credentials: user:password@ and (for http) the query string, where
    signed URLs carry their tokens. A manifest is shared; secrets must not travel with it."""
    if not source or "://" not in source:
        return source
    from urllib.parse import urlsplit, urlunsplit

    scheme = source.split("://", 1)[0].lower()
    if scheme == "git":  # git://REPO:REF@PATH: the `@` separates the ref, not a user
        return source
    parts = urlsplit(source)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "" if scheme in ("http", "https") else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def parent_of(ds: Dataset, *, role: str = "parent") -> ParentRef | None:
    """The version `ds` was read from, or None for a dataset made in memory."""
    m = ds.manifest
    native = (ds.source_format or "groundtruth") == "groundtruth"
    if native and m.fingerprint:
        return ParentRef(fingerprint=m.fingerprint, name=m.name, version=m.version,
                         source=safe_source(ds.source), format="groundtruth",
                         role=role)  # type: ignore[arg-type]
    if not native and ds.source:
        return ParentRef(name=m.name, version=m.version, source=safe_source(ds.source),
                         format=ds.source_format, sha256=_source_sha256(ds.source),
                         role=role)  # type: ignore[arg-type]
    return None


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in sorted(options.items()):
        if v is None or k in ("storage_options", "fs"):  # credentials never go in a manifest
            continue
        if isinstance(v, bool | int | float | str):
            out[k] = v if not isinstance(v, str) else v[:MAX_OPTION_TEXT]
        elif isinstance(v, list | tuple) and all(isinstance(x, bool | int | float | str)
                                                 for x in v):
            out[k] = list(v)
        elif isinstance(v, dict) and all(isinstance(x, bool | int | float | str)
                                         for x in v.values()):
            out[k] = {str(a): b for a, b in v.items()}
        else:
            out[k] = str(v)[:MAX_OPTION_TEXT]
    return out


def make_lineage(operation: str, parents: list[ParentRef | None], *,
                 options: dict[str, Any] | None = None, message: str | None = None,
                 changes: ChangeSummary | None = None) -> Lineage:
    """A lineage whose time and tool version are filled in when it is written."""
    return Lineage(parents=[p for p in parents if p is not None],
                   derivation=Derivation(operation=operation, options=_jsonable(options or {}),
                                         message=message),
                   changes=changes)


def stamp(manifest: Manifest, lineage: Lineage) -> Manifest:
    """`manifest` with `lineage` (time and groundtruth version set now) and `parents` set to
    its parents' fingerprints (a merge base is not a parent)."""
    from . import __version__

    derivation = lineage.derivation.model_copy(update={
        "tool_version": lineage.derivation.tool_version or __version__,
        "time": lineage.derivation.time or datetime.now(UTC).replace(microsecond=0)})
    lineage = lineage.model_copy(update={"derivation": derivation})
    parents = [p.fingerprint for p in lineage.parents
               if p.fingerprint and p.role == "parent"]
    return manifest.model_copy(update={"lineage": lineage, "parents": parents})


def changes_from_diff(d: DatasetDiff) -> ChangeSummary:
    """The counts of a diff against the first parent."""
    s = d.summary
    return ChangeSummary(
        against=d.old.get("fingerprint"),
        items=ChangeCounts(**{k: s["items"][k] for k in ("added", "removed", "changed")}),
        annotations=ChangeCounts(**{k: s["annotations"][k]
                                    for k in ("added", "removed", "changed")}))


def unchanged_against(fingerprint: str | None) -> ChangeSummary | None:
    """No change: for a write of exactly the records it read (a re-encoding, a copy)."""
    return ChangeSummary(against=fingerprint) if fingerprint else None


def convert_lineage(ds: Dataset, *, to_format: str, read_options: dict[str, Any] | None = None,
                    write_options: dict[str, Any] | None = None,
                    message: str | None = None) -> Lineage:
    """The lineage of a conversion of `ds` (as read): its source is the one parent; a native
    source is re-encoded record for record, so nothing changed against it."""
    parent = parent_of(ds)
    options = {"from": ds.source_format, "to": to_format, **(read_options or {}),
               **{f"write.{k}": v for k, v in (write_options or {}).items()}}
    return make_lineage("convert", [parent], options=options, message=message,
                        changes=unchanged_against(parent.fingerprint if parent else None))


def consensus_lineage(ds: Dataset, res: ConsensusResult, *, message: str | None = None,
                      **options: Any) -> Lineage:
    """The lineage of `gt consensus`: the dataset read is the parent; the consensus
    annotations are what was added."""
    parent = parent_of(ds)
    changes = None
    if parent is not None and parent.fingerprint:
        changes = ChangeSummary(against=parent.fingerprint,
                                annotations=ChangeCounts(added=len(res.annotations)))
    return make_lineage("consensus", [parent], options=options, message=message,
                        changes=changes)


def subset_lineage(parent: Dataset, subset: Dataset, operation: str, *,
                   message: str | None = None, **options: Any) -> Lineage:
    """The lineage of a native subset of `parent` (`gt sample --subset`, `gt suspects
    --subset`): records only left out, so the change counts are removals."""
    ref = parent_of(parent)
    changes = None
    if ref is not None and ref.fingerprint:
        changes = ChangeSummary(against=ref.fingerprint, items=ChangeCounts(
            removed=max(len(parent.items) - len(subset.items), 0)), annotations=ChangeCounts(
            removed=max(len(parent.annotations) - len(subset.annotations), 0)))
    return make_lineage(operation, [ref], options=options, message=message, changes=changes)


def foreign_parent(source: str, format: str, name: str | None = None) -> ParentRef:
    """A foreign source file as a parent: its format and hash."""
    return ParentRef(name=name, source=safe_source(source), format=format,
                     sha256=_source_sha256(source))


def record_in_place(url: str, lineage: Lineage) -> Manifest:
    """Stamp `lineage` into the manifest of the native dataset just written at `url` (for
    writers that build the manifest themselves, e.g. streaming converters). The manifest is
    replaced in one step (atomic where the storage renames); a .zip is not rewritten."""
    import orjson

    from .io import MANIFEST, atomic_write, resolve
    from .spec import SPEC_VERSION

    fs, root = resolve(url)
    if root.endswith(".zip"):
        raise ValueError("lineage cannot be added to a .zip after it is written")
    path = f"{root.rstrip('/')}/{MANIFEST}"
    manifest = stamp(Manifest.model_validate(orjson.loads(fs.cat_file(path))), lineage)
    body = {"groundtruth": SPEC_VERSION,
            **manifest.model_dump(mode="json", exclude_defaults=True, exclude_none=True)}
    with atomic_write(fs, path, overwrite=True) as f:  # our own manifest, just written
        f.write(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
    return manifest
