"""The diff as one self-contained HTML page a reviewer opens in a browser.

Each changed item gets a card. Image items show the old version's shapes (red, dashed) and the
new version's (green) drawn as SVG over the image: a local image under the media root is
embedded as a data URI, an http(s) image is linked by its URL (drawn when the browser can reach
it), and where there is no image the outlines are drawn on a blank canvas of the item's size,
with a line saying why (`_media` decides what is read: nothing local without a media root).
Text items show their text with old and new spans highlighted. A table lists every change; two selects filter the
page by label and by kind of change (a few lines of inline JavaScript, no network).
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from .. import geometry
from .._inert import html_text
from ._media import MAX_IMAGE_BYTES, Media, MediaPolicy, resolve_media
from ._render_text import describe_details, short_fingerprint
from ._result import DatasetDiff

OLD_COLOUR = "#e3262f"
NEW_COLOUR = "#16a34a"
_COLS = ("added", "removed", "changed", "unchanged")

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
header{background:#fff;border-bottom:1px solid #d0d7de;padding:12px 20px;position:sticky;top:0;
z-index:2}
h1{font-size:18px;margin:0 0 6px}
.summary{border-collapse:collapse;margin:6px 0}
.summary td,.summary th{border:1px solid #d0d7de;padding:2px 8px;text-align:right}
.filters{margin-top:6px}
.filters select{margin-right:12px}
main{padding:12px 20px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:0 0 14px;padding:10px}
.card h2{font-size:15px;margin:0 0 8px}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;margin-left:6px;
background:#eef1f4}
.added{color:#0a7a32}.removed{color:#b3131b}
.view{display:flex;gap:14px;flex-wrap:wrap;align-items:flex-start}
svg.canvas{max-width:560px;max-height:420px;background:#fff;border:1px solid #d0d7de}
table.changes{border-collapse:collapse;font-size:13px}
table.changes td,table.changes th{border-bottom:1px solid #eaeef2;padding:2px 6px;
text-align:left;vertical-align:top}
.legend span{margin-right:12px}
.text{white-space:pre-wrap;font-family:ui-monospace,monospace;border:1px solid #d0d7de;
padding:6px;max-width:760px;background:#fff}
.o{background:rgba(227,38,47,.22);border-bottom:2px solid #e3262f}
.n{background:rgba(22,163,74,.22);border-bottom:2px solid #16a34a}
.o.n{background:rgba(140,100,60,.25)}
.note{color:#57606a;font-size:12px;margin:4px 0;max-width:560px;overflow-wrap:anywhere}
.hidden{display:none}
"""

_JS = """
(function(){
  const label=document.getElementById('f-label'), kind=document.getElementById('f-kind');
  const shown=document.getElementById('shown');
  function has(list, v){return !v || (list||'').split('|').indexOf(v)>=0;}
  function apply(){
    const l=label.value, k=kind.value; let n=0;
    document.querySelectorAll('.card').forEach(function(card){
      let any=false;
      card.querySelectorAll('[data-kinds]').forEach(function(el){
        const ok=has(el.dataset.labels,l) && has(el.dataset.kinds,k);
        el.classList.toggle('hidden', !ok); if(ok) any=true;
      });
      const own=has(card.dataset.labels,l) && has(card.dataset.kinds,k);
      const visible=any || own;
      card.classList.toggle('hidden', !visible); if(visible) n++;
    });
    shown.textContent=n;
  }
  // ?label=car&kind=removed in the page's URL preselects the filters (links into a review)
  const q=new URLSearchParams(window.location.search);
  if(q.get('label')) label.value=q.get('label');
  if(q.get('kind')) kind.value=q.get('kind');
  label.addEventListener('change', apply); kind.addEventListener('change', apply); apply();
})();
"""


def _e(value: Any) -> str:
    # every value interpolated into the page goes through here (or `_fmt` for numbers)
    return html_text(value)


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


# -- images -----------------------------------------------------------------------------------


def _mask_png(rec: dict[str, Any], colour: str) -> str | None:
    """An RLE mask as a tinted, half-transparent PNG data URI (needs Pillow)."""
    rle = rec.get("rle")
    if not rle:
        return None
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return None
    mask = geometry.rle_decode(rle["size"], rle["counts"])
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    img = Image.new("RGBA", (mask.shape[1], mask.shape[0]), (0, 0, 0, 0))
    img.paste((r, g, b, 110), mask=Image.fromarray((mask * 255).astype("uint8")))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


# -- shapes -------------------------------------------------------------------------------------


def _ring_points(ring: list[float]) -> str:
    return " ".join(f"{_fmt(ring[i])},{_fmt(ring[i + 1])}" for i in range(0, len(ring) - 1, 2))


def _extent(rec: dict[str, Any]) -> tuple[float, float]:
    xs: list[float] = []
    ys: list[float] = []
    if rec.get("bbox"):
        x, y, w, h = rec["bbox"]
        xs += [x, x + w]
        ys += [y, y + h]
    for key in ("polygon", "holes", "polyline"):
        for ring in rec.get(key) or []:
            xs += ring[0::2]
            ys += ring[1::2]
    kp = rec.get("keypoints") or []
    xs += kp[0::3]
    ys += kp[1::3]
    if rec.get("rle"):
        ys.append(rec["rle"]["size"][0])
        xs.append(rec["rle"]["size"][1])
    return (max(xs, default=0.0), max(ys, default=0.0))


def _shape(rec: dict[str, Any], side: str, attrs: str, unit: float) -> str:
    colour = OLD_COLOUR if side == "old" else NEW_COLOUR
    dash = ' stroke-dasharray="6 4"' if side == "old" else ""
    stroke = (f'stroke="{colour}" stroke-width="3" vector-effect="non-scaling-stroke"{dash} '
              f"{attrs}")
    common = f'fill="none" {stroke}'
    tinted = f'fill="{colour}" fill-opacity="0.12" {stroke}'
    t = rec.get("type")
    out: list[str] = []
    label_at: tuple[float, float] | None = None
    if t == "mask":
        href = _mask_png(rec, colour)
        if href:
            h, w = rec["rle"]["size"]
            out.append(f'<image href="{href}" x="0" y="0" width="{_fmt(w)}" '
                       f'height="{_fmt(h)}" {attrs}/>')
    if t in ("bbox", "mask", "keypoints") and rec.get("bbox") and (t == "bbox" or not out):
        x, y, w, h = rec["bbox"]
        rot = rec.get("rotation")
        transform = (f' transform="rotate({_fmt(rot)} {_fmt(x + w / 2)} {_fmt(y + h / 2)})"'
                     if rot else "")
        out.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}"'
                   f"{transform} {tinted if t == 'bbox' else common}/>")
        label_at = (x, y)
    if t == "polygon":
        d = " ".join("M" + _ring_points(r).replace(" ", " L") + " Z"
                     for r in [*rec.get("polygon", []), *rec.get("holes", [])] if len(r) >= 6)
        out.append(f'<path d="{d}" fill-rule="evenodd" {tinted}/>')
        first = rec["polygon"][0]
        label_at = (first[0], first[1])
    if t == "polyline":
        out.extend(f'<polyline points="{_ring_points(ring)}" {common}/>'
                   for ring in rec.get("polyline", []))
        first = rec["polyline"][0]
        label_at = (first[0], first[1])
    if t == "keypoints":
        kp = rec.get("keypoints") or []
        for i in range(0, len(kp) - 2, 3):
            if kp[i + 2] > 0:
                out.append(f'<circle cx="{_fmt(kp[i])}" cy="{_fmt(kp[i + 1])}" r="{_fmt(unit)}" '
                           f'fill="{colour}" {attrs}/>')
                label_at = label_at or (kp[i], kp[i + 1])
    if label_at is not None and rec.get("label"):
        # old captions sit above the shape's anchor, new ones just below it: a changed label
        # on the same box reads "chair" over "person", never the two drawn over each other
        y = label_at[1] - unit if side == "old" else label_at[1] + unit * 4.5
        out.append(f'<text x="{_fmt(label_at[0])}" y="{_fmt(y)}" '
                   f'font-size="{_fmt(unit * 4)}" fill="{colour}" stroke="white" '
                   f'stroke-width="{_fmt(unit * 0.8)}" paint-order="stroke" '
                   f'class="caption-{side}" {attrs}>{_e(rec["label"])}</text>')
    return "".join(out)


def _data(labels: Iterable[str | None], kinds: Iterable[str]) -> str:
    lab = "|".join(sorted({x for x in labels if x}))
    return f'data-labels="{_e(lab)}" data-kinds="{_e("|".join(kinds))}"'


def _kinds_of(c: dict[str, Any]) -> list[str]:
    return [c["change"], *c.get("kinds", [])]


def _labels_of(c: dict[str, Any]) -> list[str | None]:
    return [(c.get("old") or {}).get("label"), (c.get("new") or {}).get("label")]


def _svg(item: dict[str, Any], changes: list[dict[str, Any]], href: str | None) -> str:
    # new first, old (dashed) on top: where nothing moved both stay visible
    recs = [(c, side) for side in ("new", "old") for c in changes if c.get(side)]
    ext = [_extent(c[side]) for c, side in recs]
    width = float(item.get("width") or max([x for x, _ in ext] + [1.0]) * 1.05)
    height = float(item.get("height") or max([y for _, y in ext] + [1.0]) * 1.05)
    unit = max(width, height) / 160
    parts = [(f'<svg class="canvas" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {_fmt(width)} {_fmt(height)}" width="{_fmt(min(max(width, 420), 560))}">'),
             f'<rect x="0" y="0" width="{_fmt(width)}" height="{_fmt(height)}" fill="#fff"/>']
    if href:
        parts.append(f'<image href="{_e(href)}" x="0" y="0" width="{_fmt(width)}" '
                     f'height="{_fmt(height)}" preserveAspectRatio="none"/>')
    for c, side in recs:
        parts.append(_shape(c[side], side, _data(_labels_of(c), _kinds_of(c)), unit))
    parts.append("</svg>")
    return "".join(parts)


def _text_view(text: str, changes: list[dict[str, Any]]) -> str:
    """The item's text with old spans (red) and new spans (green) highlighted."""
    marks: list[tuple[int, int, str, str]] = []
    for c in changes:
        for side, cls in (("old", "o"), ("new", "n")):
            rec = c.get(side)
            if rec and rec.get("type") == "span":
                marks.append((rec["start"], rec["end"], cls, rec.get("label") or ""))
    if not marks:
        return ""
    cuts = sorted({0, len(text), *(m[0] for m in marks), *(m[1] for m in marks)})
    out: list[str] = []
    for a, b in itertools.pairwise(cuts):
        if a >= b or a >= len(text):
            continue
        on = [m for m in marks if m[0] <= a and b <= m[1]]
        chunk = html_text(text[a:b], multiline=True)
        if on:
            cls = " ".join(sorted({m[2] for m in on}))
            title = "; ".join(("old " if m[2] == "o" else "new ") + m[3] for m in on)
            out.append(f'<span class="{cls}" title="{_e(title)}">{chunk}</span>')
        else:
            out.append(chunk)
    return f'<div class="text">{"".join(out)}</div>'


def _rows(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return ""
    rows = [("<table class='changes'><tr><th></th><th>type</th><th>id</th><th>label</th>"
            "<th>what changed</th></tr>")]
    for c in changes:
        sign = {"added": "+", "removed": "−", "changed": "~"}[c["change"]]
        old_l, new_l = _labels_of(c)
        label = (f"{_e(old_l)} → {_e(new_l)}" if c["change"] == "changed" and old_l != new_l
                 else _e(c.get("label")))
        what = _e(describe_details(c) if c["change"] == "changed" else c["change"])
        ident = _e(c["id"]) + (f" <small>(was {_e(c['old_id'])})</small>"
                               if c.get("old_id") else "")
        rows.append(f'<tr {_data(_labels_of(c), _kinds_of(c))}>'
                    f'<td class="{_e(c["change"])}">{sign}</td><td>{_e(c["type"])}</td>'
                    f"<td>{ident}</td><td>{label}</td><td>{what}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _card(ic: dict[str, Any], changes: list[dict[str, Any]],
          media: Callable[[str | None], Media]) -> str:
    item = ic.get("new") or ic.get("old") or {}
    kinds = [ic["change"], *ic.get("kinds", [])]
    counts = ic.get("annotations", {})
    badges = "".join(f'<span class="badge {k}">{k} {_e(counts[k])}</span>'
                     for k in ("added", "removed", "changed") if counts.get(k))
    item_kinds = [k for k in ic.get("kinds", []) if k != "annotations"]
    if item_kinds:
        badges += f'<span class="badge">item: {_e(", ".join(item_kinds))}</span>'
    if ic["change"] != "changed":
        badges += f'<span class="badge {_e(ic["change"])}">item {_e(ic["change"])}</span>'
    view = ""
    geometric = [c for c in changes
                 if any((c.get(s) or {}).get("type") in ("bbox", "polygon", "polyline",
                                                        "keypoints", "mask") for s in ("old", "new"))]
    if geometric or item.get("kind") in ("image", "video"):
        shown = media(item.get("uri")) if item.get("kind") == "image" else Media()
        uri = str(item.get("uri"))
        uri = uri if len(uri) <= 120 else uri[:100] + "…"
        note = (f'<p class="note">image {_e(uri)} not shown: {_e(shown.note)}</p>'
                if shown.note else "")
        view += f"<div>{_svg(item, geometric, shown.href)}{note}</div>"
    if item.get("text"):
        view += _text_view(item["text"], changes)
    labels = [x for c in changes for x in _labels_of(c)]
    return (f'<section class="card" {_data(labels, kinds)}>'
            f'<h2>{_title(item, ic["item_id"])}{badges}</h2>'
            f'<div class="view">{view}{_rows(changes)}</div></section>')


def _title(item: dict[str, Any], item_id: str) -> str:
    """An item's heading: its file name (what a reviewer knows it by), the id beside it."""
    uri = item.get("uri")
    name = posixpath.basename(str(uri).split("?", 1)[0].rstrip("/")) if uri else ""
    kind = _e(item.get("kind"))
    if ":" in name:  # not a file name (`javascript:...`, `data:...`): the id is the title
        name = ""
    name = name if len(name) <= 80 else name[:60] + "…"  # a hostile or odd URI, cut short
    if name and name != item_id:
        return f'{_e(name)} <small>item {_e(item_id)} · {kind}</small>'
    return f'item {_e(item_id)} <small>{kind}</small>'


def render_html(result: DatasetDiff, *, limit: int = 500,
                media_root: str | os.PathLike[str] | None = None,
                fetch_remote_media: bool = False,
                max_image_bytes: int = MAX_IMAGE_BYTES) -> str:
    """The page as a string.

    Args:
        limit: changed items shown.
        media_root: the folder local images are embedded from: items' relative URIs are
            resolved against it and must stay inside it (symlinks included). Without it no
            local file is read; absolute paths, `file://` and `..` are never read.
        fetch_remote_media: download remote images (http(s), s3://, ...) and embed them;
            by default http(s) images are linked and other remote ones not shown.
        max_image_bytes: the largest image embedded.
    """
    policy = MediaPolicy.make(media_root, fetch_remote=fetch_remote_media,
                              max_bytes=max_image_bytes)

    @lru_cache(maxsize=4096)  # an image shown in several cards is read (or fetched) once
    def media(uri: str | None) -> Media:
        return resolve_media(uri, policy)

    r = result.head()
    s = r["summary"]
    shown_items = result.item_changes[:limit]
    wanted = {str(ic["item_id"]) for ic in shown_items}
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    label_set: set[str] = set()
    for c in result.annotation_changes:  # decoded one at a time; kept for shown items only
        label_set.update(x for x in _labels_of(c) if x)
        if str(c["item_id"]) in wanted:
            by_item[str(c["item_id"])].append(c)
    cards = [_card(ic, by_item.get(str(ic["item_id"]), []), media) for ic in shown_items]
    labels = sorted(label_set)
    kinds = ["added", "removed", "changed", *sorted(s["annotations"]["by_change"]),
             *(f for f in sorted(s["items"]["by_change"]) if f != "annotations")]
    summary = "".join(
        f"<tr><th>{name}</th>" + "".join(f"<td>{_e(s[name][c])}</td>" for c in _COLS) + "</tr>"
        for name in ("items", "annotations"))
    more = (f"<p>Showing the first {limit} of {len(result.item_changes)} changed items.</p>"
            if len(result.item_changes) > limit else "")
    title = f"diff {r['old']['source']} → {r['new']['source']}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{_CSS}</style></head>
<body><header>
<h1>groundtruth diff</h1>
<div>old <code>{_e(r['old']['source'])}</code> ({_e(short_fingerprint(r['old']['fingerprint']))})
 → new <code>{_e(r['new']['source'])}</code> ({_e(short_fingerprint(r['new']['fingerprint']))});
 annotations matched by <b>{_e(r['match_by']['method'])}</b></div>
<table class="summary"><tr><th></th>{"".join(f"<th>{c}</th>" for c in _COLS)}</tr>{summary}</table>
<div class="legend"><span style="color:{OLD_COLOUR}">▭ old (dashed)</span>
<span style="color:{NEW_COLOUR}">▭ new</span></div>
<div class="filters">label <select id="f-label"><option value="">all</option>
{"".join(f'<option value="{_e(x)}">{_e(x)}</option>' for x in labels)}</select>
change <select id="f-kind"><option value="">all</option>
{"".join(f'<option value="{_e(x)}">{_e(x)}</option>' for x in kinds)}</select>
<span id="shown">{len(cards)}</span> item(s) shown</div>
</header>
<main>{more}{"".join(cards) or "<p>No changes.</p>"}</main>
<script>{_JS}</script>
</body></html>
"""
