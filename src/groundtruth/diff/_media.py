"""Which images an HTML diff page may show, and how: nothing local is read unless asked.

A diff page is meant to be shared, and the item URIs it draws come from someone else's
dataset. A URI such as `/etc/passwd`, `file:///home/me/.ssh/id_rsa`, `../../secrets.png` or a
symlink planted in an image folder must not carry a local file into the page. So:

- Local media are read only under an explicit media root (`--media-root DIR`, API
  `media_root=`), and only through relative URIs that stay inside it: absolute paths,
  `file://` URIs, URIs with a `..` segment and paths that resolve (through symlinks) outside the
  root are refused. Without a media root nothing local is read at all.
- What is read must be a regular file no larger than the cap that is an image by its bytes
  (PNG, JPEG, GIF, WebP, BMP); it is embedded as a data URI.
- Remote media are linked, never fetched: an http(s) URL goes into the page as a link the
  browser may load; other schemes (s3://, gs://, ...) cannot be loaded by a browser and are
  named as not shown. With `fetch_remote=True` (`--fetch-remote-media`) they are downloaded and
  embedded (under the same size cap and image check). Only network schemes are fetched
  (`REMOTE_SCHEMES`, no `::` chains): fsspec's `local://`, `simplecache::file://...` or
  `zip://...::file://...` would read local files.

Every refusal comes back as a short reason the page prints under the item's drawing.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from dataclasses import dataclass
from urllib.parse import urlparse

from ..errors import DatasetNotFoundError, GroundtruthError

MAX_IMAGE_BYTES = 8_000_000
FETCH_TIMEOUT = 20.0

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
# What --fetch-remote-media may download: network stores only. fsspec also knows schemes that
# read local files (`local://`, `simplecache::file://...`, `zip://a::file://...`): never those.
REMOTE_SCHEMES = frozenset({"http", "https", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss",
                            "adl"})


@dataclass(frozen=True)
class Media:
    """What the page shows for an item's image: `href` (a data URI or an http(s) URL), or
    `note`, a short reason why no image is shown (None when there is no URI at all)."""

    href: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class MediaPolicy:
    """Where local media may be read from (`root`, a real path; None: nowhere), whether remote
    media are downloaded, and the largest file embedded."""

    root: str | None = None
    fetch_remote: bool = False
    max_bytes: int = MAX_IMAGE_BYTES

    @classmethod
    def make(cls, media_root: str | os.PathLike[str] | None, *, fetch_remote: bool = False,
             max_bytes: int = MAX_IMAGE_BYTES) -> MediaPolicy:
        """Check the media root (an existing local folder) and resolve it, symlinks and all."""
        if media_root is None:
            return cls(None, fetch_remote, max_bytes)
        text = os.fspath(media_root)
        scheme = urlparse(text).scheme
        if scheme and not _DRIVE.match(text):
            raise GroundtruthError(
                f"the media root must be a local folder, got {text}",
                hint="copy the images to a local folder, or pass --fetch-remote-media to "
                     "download media whose URIs are absolute URLs")
        if not os.path.isdir(text):
            raise DatasetNotFoundError(f"the media root {text} is not a folder",
                                       hint="pass the folder the items' relative URIs are in")
        return cls(os.path.realpath(text), fetch_remote, max_bytes)


def image_mime(head: bytes) -> str | None:
    """The image type of these leading bytes, by signature; None when not a known image."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _data_uri(data: bytes, what: str) -> Media:
    mime = image_mime(data[:16])
    if mime is None:
        return Media(note=f"{what} is not a PNG, JPEG, GIF, WebP or BMP image")
    return Media(href=f"data:{mime};base64,{base64.b64encode(data).decode()}")


def _too_big(policy: MediaPolicy) -> str:
    return f"larger than {policy.max_bytes:,} bytes"


def _read_local(uri: str, policy: MediaPolicy) -> Media:
    if policy.root is None:
        return Media(note="local media are read only from a folder given with --media-root")
    candidate = os.path.realpath(os.path.join(policy.root, uri))
    if os.path.commonpath([policy.root, candidate]) != policy.root:
        return Media(note="resolves (through a symlink) outside the media root; not read")
    # O_NOFOLLOW: the file checked above is the file opened, not a symlink swapped in since;
    # O_NONBLOCK: a FIFO planted in the folder cannot hang the renderer
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(candidate, flags)
    except FileNotFoundError:
        return Media(note="not found under the media root")
    except OSError as exc:
        return Media(note=f"cannot be read ({exc.strerror or exc})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Media(note="not a regular file; not read")
        if info.st_size > policy.max_bytes:
            return Media(note=_too_big(policy))
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(policy.max_bytes + 1)
    except OSError as exc:
        return Media(note=f"cannot be read ({exc.strerror or exc})")
    finally:
        os.close(fd)
    if len(data) > policy.max_bytes:
        return Media(note=_too_big(policy))
    return _data_uri(data, "the file")


def _fetch(uri: str, scheme: str, policy: MediaPolicy) -> Media:
    try:
        if scheme in ("http", "https"):
            import urllib.request

            # urllib follows redirects to http(s)/ftp only, never to file://
            with urllib.request.urlopen(uri, timeout=FETCH_TIMEOUT) as response:
                data = response.read(policy.max_bytes + 1)
        else:
            from ..io._fs import resolve

            # a fresh filesystem: one built for a URL a dataset names is not cached for
            # (and reused by) the rest of the process
            fs, path = resolve(uri, storage_options={"skip_instance_cache": True})
            with fs.open(path, "rb") as f:
                data = f.read(policy.max_bytes + 1)
    except Exception as exc:  # noqa: BLE001 - any failure of any backend: say so, go on
        return Media(note=f"could not be fetched ({type(exc).__name__}: {exc})"[:200])
    if len(data) > policy.max_bytes:
        return Media(note=_too_big(policy))
    return _data_uri(data, "the download")


def resolve_media(uri: str | None, policy: MediaPolicy) -> Media:
    """What the page shows for an item whose media URI is `uri`, under `policy`."""
    if not uri:
        return Media()
    scheme = urlparse(uri).scheme.lower()
    if _DRIVE.match(uri) or uri.startswith(("/", "\\")) or os.path.isabs(uri):
        return Media(note="an absolute path; only paths relative to --media-root are read")
    if scheme == "file":
        return Media(note="a file:// URI; only paths relative to --media-root are read")
    if scheme:
        if scheme not in REMOTE_SCHEMES or "::" in uri:
            return Media(note=f"a {scheme}: URI; only http(s) and object-store URLs are shown")
        if policy.fetch_remote:
            return _fetch(uri, scheme, policy)
        if scheme in ("http", "https"):
            return Media(href=uri)  # linked: the browser loads it when it can reach it
        return Media(note=f"remote ({scheme}://) media are not fetched without "
                          "--fetch-remote-media")
    if ".." in re.split(r"[\\/]", uri):
        return Media(note="a path with '..'; only paths inside --media-root are read")
    return _read_local(uri, policy)
