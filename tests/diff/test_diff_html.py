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
