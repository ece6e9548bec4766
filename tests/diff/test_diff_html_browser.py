"""The HTML page in real headless Chromium: the drawings are on screen, the filters work."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.diff._render_html import NEW_COLOUR, OLD_COLOUR
from groundtruth.models import BBox, Item, Span

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                       "(apt-get install -y chromium)"),
]
BACKGROUND = (200, 210, 220)


def _chromium(tmp_path, url: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900",
         *extra, url],
        capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("html")
    Image.new("RGB", (400, 300), BACKGROUND).save(root / "street.png")
    items = [Item(id="img", kind="image", uri="street.png", width=400, height=300),
             Item(id="doc", kind="text", text="Ada Lovelace met Charles Babbage.")]
    old = Dataset(items=items, annotations=[
        BBox(id="1", item_id="img", label="car", bbox=[20, 20, 120, 80]),
        BBox(id="2", item_id="img", label="dog", bbox=[200, 150, 100, 100]),
        Span(id="3", item_id="doc", label="PER", start=0, end=12)])
    new = Dataset(items=items, annotations=[
        BBox(id="1", item_id="img", label="car", bbox=[40, 30, 120, 80]),
        BBox(id="4", item_id="img", label="bike", bbox=[250, 20, 120, 100]),
        Span(id="3", item_id="doc", label="PER", start=4, end=12),
        Span(id="5", item_id="doc", label="PER", start=17, end=32)])
    gt.save(old, root / "v1")
    gt.save(new, root / "v2")
    result = gt.diff(str(root / "v1"), str(root / "v2"))
    html_path = root / "diff.html"
    html_path.write_text(result.render("html", media_root=str(root)))
    assert "data:image/png;base64," in html_path.read_text()  # the image is embedded
    return root, html_path


def _mask(pixels, colour, tol=40):
    """Pixels within `tol` of `colour` in every channel."""
    return (np.abs(pixels - np.array(colour)) <= tol).all(axis=-1)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_screenshot_shows_image_and_both_versions(page, tmp_path):
    from PIL import Image

    _root, html_path = page
    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, html_path.as_uri(), f"--screenshot={shot}")
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    image = _mask(pixels, BACKGROUND)
    assert image.sum() > 20000, "the embedded image is not painted"
    # look only inside the image's on-screen box: the legend uses the same colours
    ys, xs = np.nonzero(image)
    inside = pixels[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    old = int(_mask(inside, _rgb(OLD_COLOUR)).sum())
    new = int(_mask(inside, _rgb(NEW_COLOUR)).sum())
    # 3-px outlines around boxes ~100 px wide (scaled to the page): hundreds of pixels each
    assert old > 600, (old, new)  # labels alone (text, no shapes) give < 200
    assert new > 600, (old, new)


def test_filters_and_span_highlights_in_the_dom(page, tmp_path):
    _root, html_path = page
    dom = _chromium(tmp_path, html_path.as_uri() + "?kind=removed", "--dump-dom")
    text = dom.stdout.decode()
    assert 'id="shown">1<' in text  # only the image item has a removal
    assert 'class="card hidden"' in text
    assert 'class="n o"' in text  # a stretch in the old and the new span
    assert 'class="o"' in text  # only in the old span
    assert 'class="n"' in text  # only in the new span
    dom = _chromium(tmp_path, html_path.as_uri() + "?label=PER", "--dump-dom")
    assert 'id="shown">1<' in dom.stdout.decode()
