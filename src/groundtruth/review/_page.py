"""The review page: one self-contained HTML document (no build step, no external file).

Every string that comes from the dataset reaches the page as JSON and is put in with
`textContent` (or an SVG attribute set through the DOM), never parsed as HTML. The script and
style carry the nonce the Content-Security-Policy names.

Keyboard: 1-9 accept that annotator's version; r relabel the chosen version with the chosen
label; m keep the regions or spans picked by clicking (from any versions); e save a picked
span's new boundaries; u mark "guideline unclear" (with the note); j / k next / previous item;
n next open item; / write a note; Escape leave a field.
"""

from __future__ import annotations

import json

_PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gt review</title>
<style nonce="__NONCE__">
:root { --fg:#1d2330; --muted:#667085; --line:#d0d5dd; --bg:#f6f7f9; --accent:#2e6bd8; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1rem; align-items:center; padding:.5rem 1rem; background:#fff;
  border-bottom:1px solid var(--line); }
header h1 { font-size:16px; margin:0; }
#progress { color:var(--muted); }
#layout { display:grid; grid-template-columns: 250px 1fr 280px; height: calc(100vh - 46px); }
aside, main, #side { overflow:auto; padding: .75rem; }
aside { border-right:1px solid var(--line); background:#fff; }
#side { border-left:1px solid var(--line); background:#fff; }
label.f { display:block; margin:.25rem 0; color:var(--muted); font-size:12px; }
select, input, textarea, button { font:inherit; }
select, input[type=text], textarea { width:100%; padding:.25rem; border:1px solid var(--line);
  border-radius:4px; background:#fff; }
button { padding:.3rem .6rem; border:1px solid var(--line); border-radius:4px; background:#fff;
  cursor:pointer; }
button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
#queue { list-style:none; padding:0; margin:.5rem 0; }
#queue li { padding:.35rem .4rem; border-radius:4px; cursor:pointer; display:flex; gap:.4rem;
  align-items:baseline; }
#queue li:hover { background:#eef2f8; }
#queue li.current { background:#dbe6fb; }
#queue .rank { color:var(--muted); font-size:12px; min-width:2.5em; }
#queue .labels { color:var(--muted); font-size:12px; margin-left:auto; }
.badge { font-size:11px; padding:0 .35rem; border-radius:8px; background:#e7f6ec; color:#166534; }
.badge.unclear { background:#fff4e5; color:#9a3412; }
#pager { display:flex; gap:.5rem; align-items:center; }
#versions { display:grid; gap:.75rem; align-items:start;
  grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); }
.version { background:#fff; border:2px solid var(--line); border-radius:6px; padding:.5rem;
  min-width:0; }
.version.chosen { border-color:var(--accent); }
.version h3 { margin:0 0 .35rem; font-size:14px; display:flex; gap:.4rem; align-items:center;
  flex-wrap:wrap; }
.swatch { width:12px; height:12px; border-radius:2px; display:inline-block; }
.agree { color:var(--muted); font-size:12px; font-weight:normal; flex-basis:100%; }
.canvas { position:relative; background:#ccd; }
.canvas img, .canvas .blank { display:block; width:100%; height:auto; }
.canvas svg { position:absolute; inset:0; width:100%; height:100%; }
.text { white-space:pre-wrap; background:#fbfbfc; border:1px solid var(--line); padding:.4rem;
  border-radius:4px; max-height:40vh; overflow:auto; }
.text mark { border-radius:2px; padding:0 1px; color:inherit; }
.text mark sup { font-size:10px; }
.choices { margin:.25rem 0; padding-left:1.1rem; }
.note { color:var(--muted); font-size:12px; }
#decision { margin-top:.75rem; background:#fff; border:1px solid var(--line); border-radius:6px;
  padding:.6rem; display:grid; grid-template-columns: 1fr 1fr; gap:.5rem; }
#decision .wide { grid-column: 1 / 3; }
#status { min-height:1.4em; font-size:13px; }
#status.err { color:#b42318; }
#status.ok { color:#166534; }
kbd { border:1px solid var(--line); border-bottom-width:2px; border-radius:3px; padding:0 .25rem;
  font-size:11px; background:#fff; }
.section { border-top:1px solid var(--line); padding:.4rem 0; }
.section h4 { margin:.1rem 0; }
.example { font-size:12px; color:var(--muted); }
#current-decision { font-size:13px; }
.grow { flex:1; }
.pickable { cursor:pointer; pointer-events:visible; }
.mask-fill { pointer-events:none; }
rect.picked, polygon.picked, polyline.picked { stroke-width:5; stroke-dasharray:none; }
circle.picked { stroke:#000; stroke-width:2; }
mark.picked { outline:2px solid #111; }
#context .msg { margin:.2rem 0; white-space:pre-wrap; }
#context .role { font-weight:600; margin-right:.4rem; }
#context .cand { border:1px solid var(--line); border-radius:4px; padding:.3rem .5rem;
  margin:.3rem 0; background:#fff; white-space:pre-wrap; }
.choices ins { background:#fff2b3; text-decoration:none; border-bottom:2px solid #c9a400; }
</style></head>
<body>
<header><h1>gt review</h1><span id="progress"></span><span id="who" class="note"></span>
<span class="grow"></span>
<button id="finish" title="write the adjudicated dataset">Finish</button></header>
<div id="layout">
<aside>
  <label class="f">status <select id="f-status"><option value="open">open</option>
    <option value="decided">decided</option><option value="all">all</option></select></label>
  <label class="f">label <select id="f-label"></select></label>
  <label class="f">annotator <select id="f-annotator"></select></label>
  <label class="f">label set <select id="f-label_set"></select></label>
  <label class="f">split <select id="f-split"></select></label>
  <div id="pager"><button id="prev-page">&larr;</button><span id="page-info"></span>
    <button id="next-page">&rarr;</button></div>
  <ol id="queue"></ol>
</aside>
<main>
  <h2 id="item-title">Loading&hellip;</h2>
  <div id="media-note" class="note"></div>
  <div id="context"></div>
  <div id="versions"></div>
  <div id="decision">
    <div class="wide" id="current-decision"></div>
    <label class="f">version <select id="d-version"></select></label>
    <label class="f">label <select id="d-label"></select></label>
    <label class="f wide">note / rationale
      <textarea id="d-note" rows="2" placeholder="why (saved with the decision)"></textarea></label>
    <label class="f">guideline section <select id="d-section"></select></label>
    <div></div>
    <div class="wide">
      <button id="b-accept" class="primary">Accept version</button>
      <button id="b-relabel">Relabel <kbd>r</kbd></button>
      <button id="b-unclear">Guideline unclear <kbd>u</kbd></button>
      <button id="b-merge" disabled title="keep the regions or spans you clicked, from any
        version">Keep picked (0)</button>
      <button id="b-next">Next open <kbd>n</kbd></button>
    </div>
    <div class="wide" id="span-edit" hidden>
      <label class="f">start <input id="d-start" type="number" min="0"></label>
      <label class="f">end <input id="d-end" type="number" min="1"></label>
      <button id="b-edit">Save boundaries <kbd>e</kbd></button>
    </div>
    <div class="wide note">Click regions or spans to pick them; <kbd>m</kbd> keeps the picked
      ones. Keys: <kbd>1</kbd>&ndash;<kbd>9</kbd> accept a version,
      <kbd>j</kbd>/<kbd>k</kbd> next/previous, <kbd>/</kbd> note, <kbd>Esc</kbd> leave a field.
      Every decision is saved to the decisions log at once.</div>
    <div class="wide" id="status" role="status"></div>
  </div>
</main>
<div id="side"><h3>Guideline</h3><div id="guidance" class="note">No section for these
labels.</div></div>
</div>
<script nonce="__NONCE__">
"use strict";
const TOKEN = __TOKEN__;
const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
                 "#9a6324"];
const SVGNS = "http://www.w3.org/2000/svg";
const state = { page: 0, pageSize: 50, rows: [], total: 0, current: null, item: null, facets: null,
                colour: {}, picked: new Set() };
const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}
async function api(path, body) {
  const init = { headers: { "X-Review-Token": TOKEN } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const data = await r.json();
  if (!r.ok) throw new Error(data.error + (data.hint ? " (" + data.hint + ")" : ""));
  return data;
}
function status(text, ok) {
  const s = $("status");
  s.textContent = text;
  s.className = ok ? "ok" : "err";
}
function colourOf(who) {
  if (!(who in state.colour)) {
    state.colour[who] = COLOURS[Object.keys(state.colour).length % COLOURS.length];
  }
  return state.colour[who];
}
function fillSelect(sel, values, blank) {
  sel.replaceChildren();
  if (blank !== undefined) sel.append(new Option(blank, ""));
  for (const v of values) sel.append(new Option(v, v));
}

async function loadFacets() {
  const f = await api("/api/facets");
  state.facets = f;
  fillSelect($("f-label"), f.labels, "any");
  fillSelect($("f-annotator"), f.annotators, "any");
  fillSelect($("f-label_set"), f.label_sets, "any");
  fillSelect($("f-split"), f.splits, "any");
  fillSelect($("d-label"), f.all_labels);
  f.annotators.forEach(colourOf);
  $("who").textContent = "reviewer: " + f.reviewer;
  $("finish").disabled = !f.can_finish;
}

function filters() {
  const q = new URLSearchParams({ page: state.page });
  for (const k of ["status", "label", "annotator", "label_set", "split"]) {
    const v = $("f-" + k).value;
    if (v) q.set(k, v);
  }
  return q;
}

async function loadQueue() {
  const data = await api("/api/queue?" + filters());
  state.rows = data.rows;
  state.total = data.total;
  state.pageSize = data.page_size;
  $("progress").textContent = data.decided + " of " + data.queue_size + " decided";
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  $("page-info").textContent = "page " + (data.page + 1) + " / " + pages + " (" + data.total +
    " items)";
  const ol = $("queue");
  ol.replaceChildren();
  for (const row of data.rows) {
    const li = el("li");
    li.dataset.item = row.item_id;
    li.append(el("span", "#" + row.rank, "rank"), el("span", row.item_id));
    if (row.decision) {
      li.append(el("span", row.decision, "badge" +
        (row.decision === "guideline-unclear" ? " unclear" : "")));
    }
    li.append(el("span", row.labels.join(" / "), "labels"));
    li.addEventListener("click", () => openItem(row.item_id));
    if (row.item_id === state.current) li.classList.add("current");
    ol.append(li);
  }
}

function pickable(node, ids) {
  node.classList.add("pickable");
  node.dataset.ann = ids.join(" ");
  node.addEventListener("click", (ev) => {
    ev.stopPropagation();
    const on = !ids.every((x) => state.picked.has(x));
    for (const x of ids) { if (on) state.picked.add(x); else state.picked.delete(x); }
    showPicked();
  });
}

function showPicked() {
  for (const n of document.querySelectorAll(".pickable")) {
    const ids = n.dataset.ann.split(" ");
    n.classList.toggle("picked", ids.some((x) => state.picked.has(x)));
  }
  const n = state.picked.size;
  $("b-merge").textContent = "Keep picked (" + n + ")";
  $("b-merge").disabled = n === 0;
  const spans = state.item ? state.item.versions.flatMap((v) => v.annotations)
    .filter((a) => state.picked.has(a.id) && a.type === "span") : [];
  const edit = $("span-edit");
  edit.hidden = !(n === 1 && spans.length === 1);
  if (!edit.hidden) {
    $("d-start").value = spans[0].start;
    $("d-end").value = spans[0].end;
    if (spans[0].label) $("d-label").value = spans[0].label;
  }
}

function drawShapes(root, anns, colour, width, height) {
  const s = svg("svg", { viewBox: "0 0 " + width + " " + height,
                         preserveAspectRatio: "none" });
  const stroke = { fill: "none", stroke: colour, "stroke-width": Math.max(width, height) / 250,
                   "vector-effect": "non-scaling-stroke" };
  for (const a of anns) {
    let anchor = null;
    if (a.type === "mask" && a.mask_png) {
      // the decoded mask as a luminance mask over a rectangle of the annotator's colour
      const id = "m" + Math.random().toString(36).slice(2);
      const m = svg("mask", { id, maskUnits: "userSpaceOnUse", x: 0, y: 0, width, height });
      const img = svg("image", { x: 0, y: 0, width, height, preserveAspectRatio: "none",
                                 href: a.mask_png });
      m.append(img);
      const fillRect = svg("rect", { x: 0, y: 0, width, height, fill: colour,
                                     "fill-opacity": 0.45, mask: "url(#" + id + ")" });
      fillRect.classList.add("mask-fill");
      s.append(m, fillRect);
    }
    if (a.type === "bbox" || (a.type === "mask" && a.bbox)) {
      const [x, y, w, h] = a.bbox;
      const r = svg("rect", { x, y, width: w, height: h, ...stroke });
      r.setAttribute("stroke-width", "2");
      pickable(r, [a.id]);
      if (a.type === "mask") r.setAttribute("stroke-dasharray", "4 3");
      if (a.rotation) {
        r.setAttribute("transform", "rotate(" + a.rotation + " " + (x + w / 2) + " " +
          (y + h / 2) + ")");
      }
      s.append(r);
      anchor = [x, y];
    } else if (a.type === "polygon" || a.type === "polyline") {
      for (const ring of (a.polygon || a.polyline)) {
        const pts = [];
        for (let i = 0; i + 1 < ring.length; i += 2) pts.push(ring[i] + "," + ring[i + 1]);
        const p = svg(a.type === "polygon" ? "polygon" : "polyline",
                      { points: pts.join(" "), ...stroke });
        p.setAttribute("stroke-width", "2");
        pickable(p, [a.id]);
        s.append(p);
        if (!anchor) anchor = [ring[0], ring[1]];
      }
    } else if (a.type === "keypoints") {
      const k = a.keypoints;
      for (let i = 0; i + 2 < k.length; i += 3) {
        if (k[i + 2] > 0) {
          const c = svg("circle", { cx: k[i], cy: k[i + 1], r: Math.max(width, height) / 120,
                                    fill: colour, "fill-opacity": k[i + 2] === 2 ? 1 : 0.4 });
          pickable(c, [a.id]);
          s.append(c);
          if (!anchor) anchor = [k[i], k[i + 1]];
        }
      }
    }
    if (anchor && a.label) {
      const t = svg("text", { x: anchor[0] + 2, y: Math.max(anchor[1] - 3, 12), fill: colour,
                              "font-size": Math.max(width, height) / 30 });
      t.textContent = a.label;
      s.append(t);
    }
  }
  root.append(s);
}

function drawText(root, text, anns, colour) {
  const spans = anns.filter((a) => a.type === "span");
  const cuts = new Set([0, text.length]);
  for (const a of spans) { cuts.add(a.start); cuts.add(a.end); }
  const points = [...cuts].filter((c) => c >= 0 && c <= text.length).sort((x, y) => x - y);
  const chars = Array.from(text);  // offsets are code points
  const box = el("div", null, "text");
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i], hi = points[i + 1];
    const piece = chars.slice(lo, hi).join("");
    const over = spans.filter((a) => a.start <= lo && hi <= a.end);
    if (!over.length) { box.append(document.createTextNode(piece)); continue; }
    const m = el("mark", piece);
    m.style.background = colour + "33";
    m.style.borderBottom = "2px solid " + colour;
    m.title = over.map((a) => a.label).join(", ");
    pickable(m, over.map((a) => a.id));
    if (spans.some((a) => a.end === hi && over.includes(a))) {
      m.append(el("sup", over.filter((a) => a.end === hi).map((a) => a.label).join(",")));
    }
    box.append(m);
  }
  root.append(box);
}

function wordDiff(base, text) {
  // words of `text`, each marked whether it is in the longest common subsequence with `base`
  const a = base.split(/(\s+)/), b = text.split(/(\s+)/);
  const n = a.length, m = b.length;
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    }
  }
  const out = [];
  let i = 0, j = 0;
  while (j < m) {
    if (i < n && a[i] === b[j]) { out.push([b[j], true]); i++; j++; }
    else if (i < n && L[i + 1][j] >= L[i][j + 1]) { i++; }
    else { out.push([b[j], false]); j++; }
  }
  return out;
}

function drawChoices(root, anns, baseTexts) {
  const other = anns.filter((a) => !["bbox", "polygon", "polyline", "keypoints", "mask",
                                      "span"].includes(a.type));
  if (!other.length) return;
  const ul = el("ul", null, "choices");
  for (const a of other) {
    const li = el("li", a.type + ": ");
    if (a.type === "classification") li.append(a.label);
    else if (a.type === "rating") li.append((a.label ? a.label + " = " : "") + a.value);
    else if (a.type === "ranking") li.append(a.ranking.map((g) => g.join(" = ")).join("  >  "));
    else if (typeof a.text === "string") {
      // transcriptions and free text: the words that differ from the first version marked
      const base = baseTexts[a.type];
      for (const [word, same] of (base === undefined ? [[a.text, true]] : wordDiff(base, a.text))) {
        li.append(same || !word.trim() ? document.createTextNode(word) : el("ins", word));
      }
    } else li.append(a.label || "");
    ul.append(li);
  }
  root.append(ul);
}

function renderItem(data) {
  state.item = data;
  const it = data.item;
  $("item-title").textContent = it.id + " (" + it.kind + ")";
  $("media-note").textContent = data.media && data.media.note ? "image: " + data.media.note : "";
  // what rankings and preferences compare: the conversation and the candidate responses
  const ctx = $("context");
  ctx.replaceChildren();
  for (const m of it.messages || []) {
    const d = el("div", null, "msg");
    d.append(el("span", m.role + ":", "role"), document.createTextNode(" " + m.content));
    ctx.append(d);
  }
  for (const c of it.candidates || []) {
    const d = el("div", null, "cand");
    const body = c.text !== undefined ? c.text :
      (c.messages || []).map((m) => m.role + ": " + m.content).join("\n");
    d.append(el("span", c.id + ":", "role"), document.createTextNode(" " + (body || c.uri || "")));
    ctx.append(d);
  }
  const box = $("versions");
  box.replaceChildren();
  const versionSel = $("d-version");
  versionSel.replaceChildren();
  const baseTexts = {};  // the first version's text per type: what the others are diffed with
  for (const a of (data.versions[0] || { annotations: [] }).annotations) {
    if (typeof a.text === "string" && ["transcription", "text"].includes(a.type) &&
        !(a.type in baseTexts)) baseTexts[a.type] = a.text;
  }
  data.versions.forEach((v, i) => {
    const colour = colourOf(v.annotator);
    const card = el("div", null, "version");
    card.dataset.annotator = v.annotator;
    const h = el("h3");
    const sw = el("span", null, "swatch");
    sw.style.background = colour;
    const agree = Object.entries(v.agreement).map(([k, x]) =>
      k + " " + (x === null || x === undefined ? "n/a" : Number(x).toFixed(2))).join(", ");
    h.append(sw, el("span", (i + 1) + ". " + v.annotator),
             el("span", agree ? "agreement so far: " + agree : "", "agree"));
    card.append(h);
    if (it.kind === "image") {
      const canvas = el("div", null, "canvas");
      const w = it.width || 100, hh = it.height || 100;
      if (data.media && data.media.href) {
        const img = new Image();
        img.alt = it.id;
        img.src = data.media.href;
        canvas.append(img);
      } else {
        const blank = svg("svg", { viewBox: "0 0 " + w + " " + hh, class: "blank" });
        canvas.append(blank);
      }
      drawShapes(canvas, v.annotations, colour, w, hh);
      card.append(canvas);
    }
    if (typeof it.text === "string") drawText(card, it.text, v.annotations, colour);
    drawChoices(card, v.annotations, baseTexts);
    card.append(el("div", v.summary, "note"));
    const b = el("button", "Accept " + v.annotator + " [" + (i + 1) + "]");
    b.addEventListener("click", () => accept(i));
    card.append(b);
    card.addEventListener("click", () => chooseVersion(i));
    box.append(card);
    versionSel.append(new Option((i + 1) + ". " + v.annotator, v.annotator));
  });
  const firstLabel = data.versions.flatMap((v) => v.annotations).find((a) => a.label);
  if (firstLabel) $("d-label").value = firstLabel.label;
  const sec = $("d-section");
  sec.replaceChildren(new Option("(none)", ""));
  const g = $("guidance");
  g.replaceChildren();
  if (!data.guidance.length) g.append(el("p", "No section for these labels."));
  for (const s of data.guidance) {
    sec.append(new Option(s.id + (s.title ? ": " + s.title : ""), s.id));
    const d = el("div", null, "section");
    d.append(el("h4", (s.title || s.id) + " (" + s.guideline + ")"));
    if (s.labels.length) d.append(el("div", "labels: " + s.labels.join(", "), "example"));
    if (s.text) d.append(el("p", s.text));
    if (s.uri) d.append(el("div", "see: " + s.uri, "example"));
    for (const ex of s.examples) {
      d.append(el("div", "example " + ex.item_id + ": " + ex.expected +
                  (ex.note ? " (" + ex.note + ")" : ""), "example"));
    }
    g.append(d);
  }
  showDecision(data.decision);
  $("d-note").value = "";
  state.picked = new Set();
  showPicked();
  chooseVersion(0);
}

function showDecision(d) {
  $("current-decision").textContent = d ? "Decided: " + d.decision +
    (d.label ? " -> " + d.label : "") + (d.accepted && d.accepted.length ? " (kept " +
    d.accepted.join(", ") + ")" : "") + (d.rationale ? " - " + d.rationale : "") :
    "Not decided yet.";
}

function chooseVersion(i) {
  const cards = [...document.querySelectorAll(".version")];
  cards.forEach((c, j) => c.classList.toggle("chosen", i === j));
  if (cards[i]) $("d-version").value = cards[i].dataset.annotator;
}

async function openItem(itemId, keepStatus) {
  state.current = itemId;
  const seq = state.seq = (state.seq || 0) + 1;  // a later request wins, whatever answers first
  for (const li of document.querySelectorAll("#queue li")) {
    li.classList.toggle("current", li.dataset.item === itemId);
  }
  try {
    const data = await api("/api/item/" + encodeURIComponent(itemId));
    if (seq !== state.seq) return;
    renderItem(data);
    if (!keepStatus) status("", true);
  } catch (e) { status(e.message, false); }
}

async function send(body) {
  try {
    const r = await api("/api/decide", { item_id: state.current, rationale: $("d-note").value,
                                         section: $("d-section").value, ...body });
    status("saved: " + r.decision.decision + " (" + r.decision.id + ")", true);
    showDecision(r.decision);
    await loadQueue();
    await nextOpen();
  } catch (e) { status("not saved: " + e.message, false); }
}
function accept(i) {
  const v = state.item && state.item.versions[i];
  if (v) send({ action: "accept", annotator: v.annotator });
}
function relabel() {
  send({ action: "relabel", annotator: $("d-version").value, label: $("d-label").value });
}
function unclear() { send({ action: "unclear" }); }
function merge() {
  if (state.picked.size) send({ action: "merge", picked: [...state.picked] });
}
function editSpan() {
  const [id] = [...state.picked];
  send({ action: "edit", annotation: id, start: Number($("d-start").value),
         end: Number($("d-end").value), label: $("d-label").value });
}

async function step(delta) {
  const ids = state.rows.map((r) => r.item_id);
  const i = ids.indexOf(state.current);
  const j = i + delta;
  if (j >= 0 && j < ids.length) return openItem(ids[j]);
  if (j >= ids.length && (state.page + 1) * state.pageSize < state.total) {
    state.page += 1; await loadQueue(); if (state.rows.length) return openItem(state.rows[0].item_id);
  }
  if (j < 0 && state.page > 0) {
    state.page -= 1; await loadQueue();
    if (state.rows.length) return openItem(state.rows[state.rows.length - 1].item_id);
  }
}
async function nextOpen() {
  const open = state.rows.find((r) => !r.decision && r.item_id !== state.current);
  if (open) return openItem(open.item_id, true);
  if (!state.rows.length || state.rows.every((r) => r.decision)) {
    const s = $("status");
    s.textContent = (s.textContent ? s.textContent + " - " : "") +
      "queue done: nothing open with these filters";
  }
}

document.addEventListener("keydown", (ev) => {
  const t = ev.target;
  if (ev.key === "Escape") { if (t.blur) t.blur(); return; }
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement ||
      t instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (/^[1-9]$/.test(ev.key)) { accept(Number(ev.key) - 1); ev.preventDefault(); }
  else if (ev.key === "j" || ev.key === "ArrowDown") { step(1); ev.preventDefault(); }
  else if (ev.key === "k" || ev.key === "ArrowUp") { step(-1); ev.preventDefault(); }
  else if (ev.key === "n") { nextOpen(); }
  else if (ev.key === "u") { unclear(); }
  else if (ev.key === "r") { relabel(); }
  else if (ev.key === "m") { merge(); }
  else if (ev.key === "e" && !$("span-edit").hidden) { editSpan(); }
  else if (ev.key === "/") { $("d-note").focus(); ev.preventDefault(); }
});
$("b-accept").addEventListener("click", () => {
  const i = state.item.versions.findIndex((v) => v.annotator === $("d-version").value);
  accept(i);
});
$("b-relabel").addEventListener("click", relabel);
$("b-unclear").addEventListener("click", unclear);
$("b-merge").addEventListener("click", merge);
$("b-edit").addEventListener("click", editSpan);
$("b-next").addEventListener("click", nextOpen);
$("d-version").addEventListener("change", () => {
  const i = state.item.versions.findIndex((v) => v.annotator === $("d-version").value);
  chooseVersion(i);
});
$("prev-page").addEventListener("click", async () => {
  if (state.page > 0) { state.page -= 1; await loadQueue(); }
});
$("next-page").addEventListener("click", async () => {
  if ((state.page + 1) * state.pageSize < state.total) { state.page += 1; await loadQueue(); }
});
for (const k of ["status", "label", "annotator", "label_set", "split"]) {
  $("f-" + k).addEventListener("change", async () => {
    state.page = 0; await loadQueue();
    const shown = state.rows.some((r) => r.item_id === state.current);
    if (state.rows.length && !shown) openItem(state.rows[0].item_id);
  });
}
$("finish").addEventListener("click", async () => {
  try {
    const r = await api("/api/finish", {});
    status("written " + r.written + " (" + r.fingerprint + ")", true);
  } catch (e) { status("not written: " + e.message, false); }
});

(async () => {
  try {
    await loadFacets();
    await loadQueue();
    if (state.rows.length) await openItem(state.rows[0].item_id);
    else { $("item-title").textContent = "Nothing to review with these filters."; }
    document.body.dataset.ready = "1";
  } catch (e) { status(e.message, false); }
})();
</script>
</body></html>
"""


def render_page(nonce: str, token: str) -> str:
    """The page, with the CSP nonce and the session's access token filled in."""
    return _PAGE.replace("__NONCE__", nonce).replace("__TOKEN__", json.dumps(token))
