"""An HTML diff page never carries a local file it was not asked to: the attacks, tried.

Each test plants a secret (a real PNG, so the image check alone would not stop it) outside the
media root and a dataset whose item URIs point at it in some way; the page must not contain the
secret's bytes, raw or base64, and must say why the image is not shown.
"""

from __future__ import annotations

import base64
import html
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import groundtruth as gt
from groundtruth.cli import cli
from groundtruth.diff._media import MediaPolicy, image_mime, resolve_media
from groundtruth.errors import DatasetNotFoundError, GroundtruthError
from groundtruth.models import BBox, Item

SECRET_TEXT = b"SECRET-0xC0FFEE-do-not-leak"


def _png(path, colour=(9, 8, 7), marker=SECRET_TEXT) -> bytes:
    """A valid PNG whose bytes end with a marker (a secret that must never reach a page)."""
    Image.new("RGB", (3, 3), colour).save(path, format="PNG")
    data = path.read_bytes() + marker  # trailing bytes: still a valid PNG
    path.write_bytes(data)
    return data


def _leaks(page: str, data: bytes) -> bool:
    # the tail: every small PNG starts alike, the marker is at the end
    encoded = base64.b64encode(data).decode()
    return SECRET_TEXT.decode() in page or encoded in page or encoded[-40:] in page


@pytest.fixture
def layout(tmp_path):
    """media/ (the root, with one good image and a symlink out), secret/ (outside it)."""
    media = tmp_path / "media"
    secret = tmp_path / "secret"
    media.mkdir()
    secret.mkdir()
    good = _png(media / "good.png", (200, 10, 10), b"fine to show")
    leaked = _png(secret / "key.png")
    (media / "link.png").symlink_to(secret / "key.png")
    (media / "sub").mkdir()
    (media / "dirlink").symlink_to(secret, target_is_directory=True)
    return tmp_path, media, good, leaked


def _versions(uris: list[str]) -> tuple[gt.Dataset, gt.Dataset]:
    items = [Item(id=f"i{n}", kind="image", uri=u, width=3, height=3) for n, u in enumerate(uris)]
    old = gt.Dataset(items=items, annotations=[
        BBox(id=str(n), item_id=f"i{n}", label="a", bbox=[0, 0, 1, 1]) for n in range(len(uris))])
    new = gt.Dataset(items=items, annotations=[
        BBox(id=str(n), item_id=f"i{n}", label="b", bbox=[0, 0, 1, 1]) for n in range(len(uris))])
    return old, new


def test_every_escape_route_is_refused(layout):
    tmp_path, media, good, leaked = layout
    secret = tmp_path / "secret" / "key.png"
    attacks = {
        str(secret): "an absolute path",
        secret.as_uri(): "a file:// URI",
        "../secret/key.png": "a path with '..'",
        "sub/../../secret/key.png": "a path with '..'",
        "sub\\..\\..\\secret\\key.png": "a path with '..'",
        "link.png": "outside the media root",
        "dirlink/key.png": "outside the media root",
        "/etc/passwd": "an absolute path",
        "//server/share/x.png": "an absolute path",
        "C:\\Windows\\win.ini": "an absolute path",
        "data:image/png;base64," + "A" * 400: "a data: URI",
        "javascript:alert(1)": "a javascript: URI",
    }
    old, new = _versions([*attacks, "good.png"])
    page = gt.diff(old, new).render("html", media_root=str(media))
    assert not _leaks(page, leaked)
    assert "A" * 200 not in page  # the URI is named in the note, cut short
    for reason in set(attacks.values()):
        assert html.escape(reason) in page, reason
    assert "javascript:alert" not in page.replace("image javascript:alert(1) not shown", "")
    assert f"data:image/png;base64,{base64.b64encode(good).decode()}" in page  # inside: shown
    assert page.count('class="note"') == len(attacks)


def test_fetching_never_reaches_local_files(layout):
    """With --fetch-remote-media, fsspec schemes that read local files are still refused."""
    tmp_path, media, _, leaked = layout
    secret = tmp_path / "secret" / "key.png"
    uris = [f"simplecache::{secret.as_uri()}", f"local://{secret}", f"file://{secret}",
            f"zip://key.png::{secret.as_uri()}", f"memory://{secret}",
            f"https://example.invalid/x.png::{secret.as_uri()}"]
    old, new = _versions(uris)
    page = gt.diff(old, new).render("html", media_root=str(media), fetch_remote_media=True)
    assert not _leaks(page, leaked)
    assert "data:image/png" not in page
    assert page.count('class="note"') == len(uris)


def test_nothing_local_is_read_without_a_media_root(layout):
    _, media, good, leaked = layout
    old, new = _versions(["good.png", str(media / "good.png"), "link.png"])
    gt.save(old, media / "v1")  # the datasets' own folder holds the image: still not read
    gt.save(new, media / "v2")
    page = gt.diff(str(media / "v1"), str(media / "v2")).render("html")
    assert not _leaks(page, good)
    assert not _leaks(page, leaked)
    assert "data:image/png" not in page
    assert "only from a folder given with --media-root" in page


def test_media_root_checks(layout, tmp_path):
    _, media, _, _ = layout
    with pytest.raises(DatasetNotFoundError, match="not a folder"):
        MediaPolicy.make(tmp_path / "nope")
    with pytest.raises(GroundtruthError, match="local folder"):
        MediaPolicy.make("s3://bucket/images")
    os.mkfifo(media / "fifo.png")  # would block a plain open() forever
    (media / "notes.png").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    policy = MediaPolicy.make(media)
    assert resolve_media("fifo.png", policy).note == "not a regular file; not read"
    assert "not a PNG, JPEG" in resolve_media("notes.png", policy).note
    assert resolve_media("sub", policy).note == "not a regular file; not read"


def test_image_signatures():
    assert image_mime(b"\x89PNG\r\n\x1a\nxxxx") == "image/png"
    assert image_mime(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert image_mime(b"GIF89a") == "image/gif"
    assert image_mime(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert image_mime(b"<svg onload=alert(1)>") is None
    assert image_mime(b"") is None


def test_coco_file_name_etc_passwd_cli(tmp_path):
    """The attack of issue 13: a COCO delivery whose image is `/etc/passwd`."""
    coco = {"images": [{"id": 1, "file_name": "/etc/passwd", "width": 10, "height": 10},
                       {"id": 2, "file_name": "../../../../../../etc/passwd", "width": 10,
                        "height": 10}],
            "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                             "area": 1, "iscrowd": 0},
                            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1],
                             "area": 1, "iscrowd": 0}]}
    (tmp_path / "v1.json").write_text(json.dumps(coco))
    for a in coco["annotations"]:
        a["category_id"] = 2
    (tmp_path / "v2.json").write_text(json.dumps(coco))
    (tmp_path / "media").mkdir()
    passwd = Path("/etc/passwd").read_bytes()
    for extra in ([], ["--media-root", str(tmp_path / "media")], ["--media-root", "/"],
                  ["--fetch-remote-media"]):
        out = CliRunner().invoke(cli, ["diff", str(tmp_path / "v1.json"),
                                       str(tmp_path / "v2.json"), "--from", "coco",
                                       "--format", "html", *extra])
        assert out.exit_code == 0, out.output
        assert "root:x:0" not in out.stdout
        assert base64.b64encode(passwd).decode()[:24] not in out.stdout
        assert "an absolute path" in out.stdout
        assert "a path with &#x27;..&#x27;" in out.stdout


def test_cli_media_root_must_be_a_folder_and_html_only(tmp_path):
    old, new = _versions(["a.png"])
    gt.save(old, tmp_path / "v1")
    gt.save(new, tmp_path / "v2")
    out = CliRunner().invoke(cli, ["diff", str(tmp_path / "v1"), str(tmp_path / "v2"),
                                   "--format", "html", "--media-root", str(tmp_path / "no")])
    assert out.exit_code == 2
    assert "--media-root" in out.output
    out = CliRunner().invoke(cli, ["diff", str(tmp_path / "v1"), str(tmp_path / "v2"),
                                   "--media-root", str(tmp_path)])
    assert out.exit_code == 2
    assert "apply to --format html" in out.output


class _Images(BaseHTTPRequestHandler):
    body = b""
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_remote_media_are_linked_unless_fetching_is_asked(tmp_path):
    _Images.body = _png(tmp_path / "remote.png")
    _Images.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/remote.png"
        old, new = _versions([url, "s3://bucket/key.png"])
        d = gt.diff(old, new)
        page = d.render("html")
        assert _Images.hits == 0  # never fetched by the renderer
        assert f'href="{url}"' in page  # linked: the browser may load it
        assert "remote (s3://) media are not fetched without --fetch-remote-media" in page
        # fetching: no s3 here (tests stay off the network); a refused port stands for a
        # remote that fails
        old, new = _versions([url, "http://127.0.0.1:9/down.png"])
        d = gt.diff(old, new)
        fetched = d.render("html", fetch_remote_media=True)
        assert _Images.hits == 1
        assert base64.b64encode(_Images.body).decode() in fetched
        assert f'href="{url}"' not in fetched
        assert "could not be fetched" in fetched
        capped = d.render("html", fetch_remote_media=True, max_image_bytes=20)
        assert "larger than 20 bytes" in capped
    finally:
        server.shutdown()

