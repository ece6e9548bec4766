"""Versions kept in a git repository, read through fsspec's git filesystem (pygit2).

A dataset committed to git is read at any revision as `git://REPO:REF@PATH` (REPO the local
repository folder, REF a branch, tag or commit, PATH the dataset folder inside it). `gt log`
follows a parent that is no longer where its lineage says (a folder overwritten by the next
version, as it is when a dataset lives in git) by looking for the commit, among the ancestors
of REF, whose manifest at PATH has the parent's fingerprint.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_COMMITS = 500


def parse_git_url(url: str) -> tuple[str, str, str] | None:
    """(repository, ref, path) of a `git://REPO:REF@PATH` URL, else None."""
    if not url.startswith("git://"):
        return None
    rest = url.removeprefix("git://")
    if ":" not in rest:
        return None
    repo, rest = rest.split(":", 1)
    ref, path = rest.split("@", 1) if "@" in rest else ("HEAD", rest)
    return repo, ref, path.strip("/")


def find_in_history(url: str, fingerprint: str, *,
                    max_commits: int = MAX_COMMITS) -> str | None:
    """The `git://` URL of the commit, among the (strict) ancestors of `url`'s ref, whose dataset at the
    same path has `fingerprint`; None when there is none (or `url` is not a git URL)."""
    parsed = parse_git_url(url)
    if parsed is None:
        return None
    try:
        import pygit2
    except ImportError:
        return None
    repo_path, ref, path = parsed
    repo = pygit2.Repository(repo_path)
    commit, _ = repo.resolve_refish(ref)
    manifest_path = f"{path}/groundtruth.json" if path else "groundtruth.json"
    for n, c in enumerate(repo.walk(commit.id, pygit2.enums.SortMode.TOPOLOGICAL)):
        if n >= max_commits:
            break
        if c.id == commit.id:  # the child itself: a parent is in an earlier commit
            continue
        try:
            blob: Any = c.tree[manifest_path]
        except KeyError:
            continue
        try:
            data = orjson.loads(blob.data)
        except orjson.JSONDecodeError:
            continue
        if isinstance(data, dict) and data.get("fingerprint") == fingerprint:
            return f"git://{repo_path}:{c.id}@{path}"
    return None
