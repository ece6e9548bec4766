"""The HTML page without a browser: image sources, blank canvases, escaping, filters' data."""

from __future__ import annotations

from PIL import Image

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.diff._media import MediaPolicy, resolve_media
from groundtruth.models import BBox, Item


def test_resolve_media(tmp_path):
    Image.new("RGB", (4, 4), (1, 2, 3)).save(tmp_path / "a.png")
    rooted = MediaPolicy.make(tmp_path)
    assert resolve_media("https://example.org/x.jpg", rooted).href == "https://example.org/x.jpg"
    assert resolve_media("a.png", rooted).href.startswith("data:image/png;base64,")
    assert resolve_media("a.png", MediaPolicy()).href is None  # no media root: nothing read
    assert resolve_media((tmp_path / "a.png").as_uri(), rooted).href is None
    assert resolve_media(str(tmp_path / "a.png"), rooted).href is None  # absolute
    assert "larger than" in resolve_media("a.png", MediaPolicy.make(tmp_path, max_bytes=10)).note
    assert resolve_media("missing.png", rooted).note == "not found under the media root"
    assert "--fetch-remote-media" in resolve_media("s3://bucket/a.png", rooted).note
    assert resolve_media(None, rooted).href is None
    assert resolve_media(None, rooted).note is None  # no URI: a blank canvas, nothing to say


def test_blank_canvas_escaping_and_filter_data():
    items = [Item(id="<i>", kind="image", uri="https://cdn.invalid/a.jpg", width=100, height=50),
             Item(id="n", kind="image", uri="nowhere.jpg")]  # no size: canvas from the shapes
    old = Dataset(items=items, annotations=[
        BBox(id="1", item_id="<i>", label='a "b" <c>', bbox=[1, 1, 10, 10]),
        BBox(id="2", item_id="n", label="x", bbox=[100, 200, 50, 50])])
    new = Dataset(items=items, annotations=[
        BBox(id="1", item_id="<i>", label="d&e", bbox=[1, 1, 10, 10]),
        BBox(id="2", item_id="n", label="x", bbox=[110, 200, 50, 50])])
    page = gt.diff(old, new).render("html")
    assert "item &lt;i&gt;" in page
    assert "<i>" not in page  # ids and labels never reach the page unescaped
    assert 'a &quot;b&quot; &lt;c&gt;' in page
    assert "d&amp;e" in page
    assert 'href="https://cdn.invalid/a.jpg"' in page  # the browser loads it when reachable
    assert 'viewBox="0 0 100 50"' in page
    assert 'viewBox="0 0 168' in page  # 160 px wide shapes + 5%: a blank canvas that fits
    assert 'data-kinds="changed|label"' in page
    assert 'data-kinds="changed|geometry"' in page
    assert '<option value="d&amp;e">' in page


def test_changed_label_captions_never_overlap_and_items_are_titled_by_file_name():
    import re

    items = [Item(id="42", kind="image", uri="photos/street_0001.jpg", width=100, height=80)]
    old = Dataset(items=items, annotations=[BBox(id="1", item_id="42", label="chair",
                                                 bbox=[10, 20, 30, 30])])
    new = Dataset(items=items, annotations=[BBox(id="1", item_id="42", label="person",
                                                 bbox=[10, 20, 30, 30])])
    page = gt.diff(old, new).render("html")
    assert "street_0001.jpg <small>item 42 · image</small>" in page
    ys = {m.group(2): float(m.group(1)) for m in re.finditer(
        r'<text x="[^"]+" y="([^"]+)"[^>]*>(chair|person)</text>', page)}
    assert set(ys) == {"chair", "person"}
    font = 4 * max(100, 80) / 160  # the captions are 4 units high, a unit is the side / 160
    assert ys["person"] - ys["chair"] >= font  # one line apart at least: no "phairon"
