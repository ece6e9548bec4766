"""The HTML page without a browser: image sources, blank canvases, escaping, filters' data."""

from __future__ import annotations

from PIL import Image

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.diff._render_html import image_href
from groundtruth.models import BBox, Item


def test_image_href(tmp_path):
    Image.new("RGB", (4, 4), (1, 2, 3)).save(tmp_path / "a.png")
    assert image_href("https://example.org/x.jpg", [], 10**6) == "https://example.org/x.jpg"
    assert image_href("a.png", [str(tmp_path)], 10**6).startswith("data:image/png;base64,")
    assert image_href((tmp_path / "a.png").as_uri(), [], 10**6).startswith("data:image/png")
    assert image_href(str(tmp_path / "a.png"), [], 10**6).startswith("data:image/png")
    assert image_href("a.png", [str(tmp_path)], 10) is None  # too big to embed
    assert image_href("missing.png", [str(tmp_path)], 10**6) is None
    assert image_href("s3://bucket/a.png", [], 10**6) is None
    assert image_href(None, [], 10**6) is None


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
