"""Hostile labels, ids and names are shown, never obeyed: Markdown, HTML and terminal output.

The Markdown is rendered with a CommonMark parser (markdown-it-py, with GFM tables and
strikethrough) and the HTML parsed with the standard library: every tag, link, image and
emphasis must come from the renderer, none from the data. JSON keeps the data as it is.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

import groundtruth as gt
from groundtruth.cli import cli
from groundtruth.diff._inert import md, md_code, plain
from groundtruth.models import Annotator, BBox, Classification, Item, Span

IMG = "<img src=x onerror=alert(1)>"
IMAGE_MD = "![x](http://evil.invalid/t.png)"
LINK_MD = "[click](javascript:alert(1))"
AUTOLINK = "<http://evil.invalid/a>"
RICH = "[bold red]loud[/bold red]"
PIPE = "a|b|c"
EMPH = "*star* _under_ **strong** ~~gone~~ `tick`"
CSI = "red\x1b[31mRED\x1b[0m\x1b[2J"
OSC = "title\x1b]0;pwned\x07 link\x1b]8;;http://evil.invalid\x1b\\here\x1b]8;;\x1b\\"
C1 = "c1\x9b31m\x9d0;t\x9c\x85nel\x00nul\x7fdel\u202eevil"
FORGE = "x\ngate passed: all good\r\n### forged heading"
ENTITY = "&lt;script&gt; &#60;b&#62;"

HOSTILE_LABELS = [IMG, IMAGE_MD, LINK_MD, AUTOLINK, RICH, PIPE, EMPH, CSI, OSC, C1, FORGE,
                  ENTITY]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def hostile():
    """Two versions where every data-derived string is an attack: item ids, annotation ids,
    labels (each flipped to the next, so they land in the confusion table, the per-label
    table, the taxonomy renames and the change rows), annotators, attribute values."""
    items = [Item(id=f"{IMG}{i}|{CSI}", kind="image", uri=f"{LINK_MD}{i}.png", width=100,
                  height=100) for i in range(len(HOSTILE_LABELS))]
    items.append(Item(id=f"doc{OSC}", kind="text", text=f"line one {IMG}\nline two {CSI}"))
    annotators = [Annotator(id=f"{IMAGE_MD}{FORGE}", kind="human"),
                  Annotator(id=f"{RICH}{C1}", kind="human")]
    old_anns, new_anns = [], []
    for i, label in enumerate(HOSTILE_LABELS):
        nxt = HOSTILE_LABELS[(i + 1) % len(HOSTILE_LABELS)]
        common = {"id": f"{LINK_MD}{i}", "item_id": items[i].id, "bbox": [1, 1, 10, 10]}
        old_anns.append(BBox(**common, label=label, annotator=annotators[0].id,
                             attributes={"note": EMPH}))
        new_anns.append(BBox(**common, label=nxt, annotator=annotators[1].id,
                             attributes={"note": f"{IMG}{OSC}"}))
    doc = items[-1].id
    old_anns.append(Span(id=f"s{PIPE}", item_id=doc, label=IMG, start=0, end=4))
    new_anns.append(Span(id=f"s{PIPE}", item_id=doc, label=IMG, start=0, end=8))
    old_anns.append(Classification(id=f"gone{FORGE}", item_id=doc, label=RICH))
    new_anns.append(Classification(id=f"new{AUTOLINK}", item_id=doc, label=LINK_MD))
    old = gt.Dataset(items=items, annotations=old_anns)
    new = gt.Dataset(items=items, annotations=new_anns)
    old.manifest.annotators = annotators
    new.manifest.annotators = annotators
    return old, new, gt.diff(old, new, match_by="id")


# -- Markdown ----------------------------------------------------------------------------------


def _tokens(markdown: str):
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for tok in parser.parse(markdown):
        yield tok
        yield from tok.children or []


OUR_HTML = {"<details><summary>", "</summary>", "</details>"}


def test_markdown_renders_no_tag_link_image_or_emphasis_from_data(hostile):
    _, _, d = hostile
    markdown = d.render("markdown", limit=100)
    tokens = list(_tokens(markdown))
    kinds = {t.type for t in tokens}
    assert not kinds & {"link_open", "image", "s_open", "em_open", "code_block", "fence"}
    html = [t.content.strip() for t in tokens if t.type in ("html_inline", "html_block")]
    # the only HTML is the collapsed block around the change list
    assert html, "the change list should be in a <details> block"
    for chunk in html:
        assert re.fullmatch(r"<details><summary>First \d+ of \d+ annotation changes</summary>"
                            r"|</details>", chunk), chunk
    # bold only where the renderer puts it: table heads, severities, matched-by
    strong = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "strong_open"]
    assert all(not re.search(r"<|\[|\(|\*|_|`", s) or s in HOSTILE_LABELS for s in strong)
    text = "".join(t.content for t in tokens if t.type in ("text", "code_inline"))
    text = text.replace("\u2060", "")  # the word joiners that break @mentions and #refs
    for label in (IMG, IMAGE_MD, LINK_MD, AUTOLINK, RICH, PIPE, EMPH, ENTITY):
        assert label in text, label  # shown as the characters it is
    assert not CONTROL.search(markdown)


def test_markdown_tables_keep_their_columns(hostile):
    _, _, d = hostile
    tokens = list(MarkdownIt("commonmark").enable("table").parse(d.render("markdown",
                                                                        limit=100)))
    widths: list[int] = []
    cells = 0
    for t in tokens:
        if t.type == "table_open":
            widths = []
        elif t.type == "tr_open":
            cells = 0
        elif t.type in ("th_open", "td_open"):
            cells += 1
        elif t.type == "tr_close":
            widths.append(cells)
        elif t.type == "table_close":
            assert len(set(widths)) == 1, widths  # a "|" in a label adds no cell
    pipes = [t.content for t in tokens if t.type == "inline" and PIPE in t.content]
    assert pipes


def test_markdown_lines_cannot_be_forged(hostile):
    _, _, d = hostile
    markdown = d.render("markdown", limit=100)
    assert "### forged heading" not in {line.strip() for line in markdown.splitlines()}
    headings = [t for t in MarkdownIt("commonmark").parse(markdown) if t.type == "heading_open"]
    assert len(headings) <= 6  # title, label changes, per label, per annotator, taxonomy


def test_md_helpers():
    assert md(None) == ""
    assert md("a_b") == "a\\_b"
    assert md("x\ny") == "x y"
    assert md_code("a`b") == "`` a`b ``"
    assert md_code("") == ""
    # GitHub would notify @org/team, cross-reference #12 and autolink a@b.com in the text it
    # renders: an invisible word joiner after @ and # breaks each
    text = MarkdownIt("commonmark").render(md("@org/team #12 a@b.com"))
    assert not re.search(r"[@#][\w]", text)
    assert text.replace("\u2060", "") == "<p>@org/team #12 a@b.com</p>\n"
    parser = MarkdownIt("commonmark")
    for value in (IMG, IMAGE_MD, LINK_MD, "``", "a ` b", "\\", "\\<b>"):
        rendered = parser.render(f"x {md_code(value)} y {md(value)}")
        assert not re.search(r"<(a|img|b)[ >]", rendered), rendered


# -- HTML --------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "div",
                "code", "b", "table", "tr", "th", "td", "span", "select", "option", "main", "p",
                "section", "small", "svg", "rect", "image", "text", "path", "polyline", "circle",
                "script"}


def test_html_page_escapes_every_data_string(hostile, tmp_path):
    _, _, d = hostile
    page = d.render("html")
    parsed = _Collector()
    parsed.feed(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    assert sum(tag == "img" for tag, _ in parsed.tags) == 0
    assert sum(tag == "script" for tag, _ in parsed.tags) == 1  # ours, the filters
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name == "href":
                assert (value or "").startswith(("data:image/", "https://", "http://")), value
    text = "".join(parsed.text)
    for label in (IMG, IMAGE_MD, LINK_MD, AUTOLINK, RICH, PIPE):
        assert label in text, label  # shown as text
    assert not CONTROL.search(page)
    assert "line one <img src=x onerror=alert(1)>\nline two" in text  # text view keeps lines


# -- terminal ----------------------------------------------------------------------------------


def test_text_output_has_no_escape_sequence_or_control(hostile):
    _, _, d = hostile
    text = d.render("text", limit=100)
    assert "\x1b" not in text
    assert not CONTROL.search(text)
    assert not re.search(r"\x1b|\x9b|\x9d", text)
    assert "pwned" not in text  # the OSC title payload is dropped with its sequence
    assert RICH in text  # rich markup is shown, not interpreted
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith(("gate passed", "### forged"))]
    assert any("redRED" in line for line in lines)  # the text around a sequence stays


def test_cli_text_and_json(hostile, tmp_path):
    old, new, _ = hostile
    gt.save(old, tmp_path / "v1")
    gt.save(new, tmp_path / "v2")
    out = CliRunner().invoke(cli, ["diff", str(tmp_path / "v1"), str(tmp_path / "v2"),
                                   "--limit", "100"])
    assert out.exit_code == 0, out.output
    assert not CONTROL.search(out.stdout)
    assert RICH in out.stdout
    # JSON is data, not display: every string exactly as in the dataset
    out = CliRunner().invoke(cli, ["diff", str(tmp_path / "v1"), str(tmp_path / "v2"),
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    labels = {c["old"]["label"] for c in doc["changes"]["annotations"] if c.get("old")}
    assert {CSI, OSC, C1, FORGE} <= labels
    assert any(c["item_id"] == f"doc{OSC}" for c in doc["changes"]["annotations"])


def test_plain():
    assert plain(CSI) == "redRED"
    assert plain("a\x1b]0;t\x07b") == "ab"
    assert plain("a\x1b]unterminated") == "a"
    assert plain("a\x1b(Bb\x1bMc") == "abc"
    assert plain("a\tb\nc") == "a b c"
    assert plain("a\tb\nc\x07", multiline=True) == "a\tb\nc"
    assert plain("\u202eevil\u2066x\u2069") == "evilx"
    assert plain("naïve 日本 ✏️") == "naïve 日本 ✏️"  # printable text is untouched
    assert plain(5) == "5"
