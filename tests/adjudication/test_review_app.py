"""`gt review` in headless Chromium (Playwright driving the system Chromium): decide with the
mouse and the keyboard, restart the server, resume, finish, and check the dataset written."""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.adjudication import adjudicate, read_decisions
from groundtruth.models import BBox, Item
from groundtruth.review import ReviewInputError, ReviewServer, ReviewSession
from tests.adjudication.builders import mixed, sentiment

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = playwright.expect
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                       "(apt-get install -y chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class App:
    """A review server over a saved dataset, started in this process."""

    def __init__(self, root: Path, ds: gt.Dataset, **kw) -> None:
        self.root = root
        if not (root / "ds").exists():
            gt.save(ds, root / "ds")
        self.ds = gt.load(root / "ds")
        self.log = root / "decisions.jsonl"
        self.kw = kw
        self.server: ReviewServer | None = None

    def start(self) -> str:
        session = ReviewSession.open(self.ds, self.log, reviewer="lead",
                                     out=str(self.root / "out"),
                                     media_root=str(self.root / "ds"), **self.kw)
        self.server = ReviewServer(session, "127.0.0.1", 0)
        self.server.start_background()
        return self.server.url

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    # (no wait_for_function: the page's CSP forbids the eval Playwright polls with)
    return page, errors


def _wait_saved(page, n_before: int, log: Path) -> None:
    expect(page.locator("#status")).to_have_text(re.compile("^saved"))
    assert len(read_decisions(log)) == n_before + 1  # on disk when the page says saved
    page.evaluate("document.getElementById('status').textContent = ''")


def test_decide_with_mouse_and_keyboard_restart_resume_and_finish(browser, tmp_path):
    app = App(tmp_path, sentiment(12))
    page, errors = _open(browser, app.start())
    # the queue is the disputed items, ranked: t001, t004, t007, t010 (rater-c's neu -> pos)
    queue = page.locator("#queue li").evaluate_all("ls => ls.map(l => l.dataset.item)")
    assert queue == ["t001", "t004", "t007", "t010"]
    assert page.inner_text("#item-title").startswith("t001")
    cards = page.locator(".version h3")
    assert cards.count() == 3
    # mouse: accept rater-a's version of t001
    page.get_by_role("button", name="Accept rater-a [1]").click()
    _wait_saved(page, 0, app.log)
    expect(page.locator("#item-title")).to_have_text(re.compile("^t004"))  # the next open
    # keyboard: 3 accepts rater-c's version of t004
    page.keyboard.press("3")
    _wait_saved(page, 1, app.log)
    # relabel: choose rater-b's version, label neg, with a note (once t007 is shown: the page
    # moves on after "saved", and showing an item resets the chosen version)
    expect(page.locator("#item-title")).to_have_text(re.compile("^t007"))
    page.select_option("#d-version", "rater-b")
    page.select_option("#d-label", "neg")
    page.fill("#d-note", "reads as a complaint")
    page.locator("body").click(position={"x": 5, "y": 880})
    page.keyboard.press("r")
    _wait_saved(page, 2, app.log)
    assert errors == []
    app.stop()
    page.close()

    recs = [d.record for d in read_decisions(app.log)]
    assert [(r.item_id, r.decision, r.accepted, r.label) for r in recs] == [
        ("t001", "accepted", ["t001-rater-a"], None),
        ("t004", "accepted", ["t004-rater-c"], None),
        ("t007", "relabelled", ["t007-rater-b"], "neg"),
    ]
    assert recs[2].rationale == "reads as a complaint"
    assert recs[0].overruled == ["t001-rater-b", "t001-rater-c"]

    # restart on the same log: resumed, 3 of 4 decided, the open item is the last one
    page, errors = _open(browser, app.start())
    assert page.inner_text("#progress") == "3 of 4 decided"
    assert page.locator("#queue li").evaluate_all("ls => ls.map(l => l.dataset.item)") == [
        "t010"]
    page.fill("#d-note", "no verdict in the text")
    page.get_by_role("button", name="Guideline unclear").click()
    _wait_saved(page, 3, app.log)
    # change of mind on t001, from the decided list: the later decision replaces the earlier
    page.select_option("#f-status", "decided")
    page.locator("#queue li[data-item='t001']").click()
    expect(page.locator("#item-title")).to_have_text(re.compile("^t001"))
    assert "Decided: accepted" in page.inner_text("#current-decision")
    page.keyboard.press("2")
    _wait_saved(page, 4, app.log)
    page.get_by_role("button", name="Finish").click()
    expect(page.locator("#status")).to_have_text(re.compile("^written"))
    assert errors == []
    app.stop()

    out = gt.load(tmp_path / "out")
    replay = adjudicate(app.ds, app.log)
    assert out.fingerprint() == replay.fingerprint()
    assert out.manifest.parents == [app.ds.manifest.fingerprint]
    adj = {a.item_id: a for a in out.annotations if a.adjudication is not None}
    assert sorted(adj) == ["t001", "t004", "t007", "t010"]
    assert adj["t001"].adjudication.accepted == ["t001-rater-b"]  # the later decision
    assert adj["t010"].adjudication.decision == "guideline-unclear"
    assert adj["t010"].text == "no verdict in the text"
    assert len(out.annotations) == len(app.ds.annotations) + 4


def test_boxes_and_spans_are_drawn_per_annotator_and_data_stays_text(browser, tmp_path):
    from PIL import Image

    ds = mixed()
    evil = "<img src=x onerror=\"document.body.dataset.pwned=1\">"
    ds.annotations.append(BBox(id="evil", item_id="img1", label=evil, label_set="objects",
                               annotator="rater-b", bbox=[40, 30, 10, 10]))
    ds.manifest.taxonomy.label_sets[0].labels.append(
        ds.manifest.taxonomy.label_sets[0].labels[0].model_copy(update={"name": evil}))
    (tmp_path / "ds").mkdir()
    gt.save(ds, tmp_path / "ds", overwrite=True)
    Image.new("RGB", (64, 48), (200, 210, 220)).save(tmp_path / "ds" / "img1.png")
    app = App(tmp_path, ds)
    page, errors = _open(browser, app.start())
    page.locator("#queue li[data-item='img1']").click()
    expect(page.locator(".version svg rect")).to_have_count(4)
    strokes = page.locator(".version").evaluate_all(
        "cs => cs.map(c => [c.dataset.annotator, [...c.querySelectorAll('rect')]"
        ".map(r => r.getAttribute('stroke'))])")
    colours = {who: set(s) for who, s in strokes}
    assert len({next(iter(c)) for c in colours.values()}) == 3  # one colour per annotator
    assert all(len(c) == 1 for c in colours.values())
    assert page.locator(".canvas img").first.get_attribute("src").startswith(
        "data:image/png;base64,")
    assert evil in page.locator(".version svg text").all_text_contents()
    assert page.evaluate("document.body.dataset.pwned") is None
    page.locator("#queue li[data-item='doc1']").click()
    expect(page.locator(".text mark")).to_have_count(3)
    marks = page.locator(".version").evaluate_all(
        "cs => cs.map(c => [...c.querySelectorAll('mark')].map(m => m.firstChild.textContent))")
    assert marks == [["Ada Lovelace"], ["Ada Lovelace"], ["Ada"]]
    page.screenshot(path=str(tmp_path / "shot.png"))
    assert errors == []
    app.stop()


def test_a_torn_log_is_repaired_on_resume_and_bad_decisions_are_refused(tmp_path):
    app = App(tmp_path, sentiment(6))
    app.log.write_text('{"id": "lead-000001", "item_id": "t001", "decision": "accepted", '
                       '"accepted": ["t001-rater-a"], "reviewer": "lead", '
                       '"time": "2026-12-02T15:00:00Z"}\n{"id": "lead-0000')
    s = ReviewSession.open(app.ds, app.log, reviewer="lead")
    assert list(s.decided) == ["t001"]
    assert app.log.read_text().endswith("}\n")
    with pytest.raises(ReviewInputError, match="not in the dataset"):
        s.decide({"item_id": "nope", "action": "accept", "annotator": "rater-a"})
    with pytest.raises(ReviewInputError, match="no version"):
        s.decide({"item_id": "t004", "action": "accept", "annotator": "rater-z"})
    with pytest.raises(ReviewInputError, match="not in the taxonomy"):
        s.decide({"item_id": "t004", "action": "relabel", "annotator": "rater-a",
                  "label": "meh"})
    assert len(read_decisions(app.log)) == 1  # nothing written for a refused decision
    r = s.decide({"item_id": "t004", "action": "relabel", "annotator": "rater-a",
                  "label": "neg"})
    assert r["decision"]["id"] == "lead-000002"


def test_paging_and_filters(tmp_path):
    app = App(tmp_path, sentiment(300))
    s = ReviewSession.open(app.ds, app.log, reviewer="lead", include_all=True)
    first = s.page()
    assert (first["total"], first["queue_size"], len(first["rows"])) == (300, 300, 50)
    assert all(r["disagreement"] for r in first["rows"])  # the 100 disputes come first
    assert s.page(page=2)["rows"][0]["disagreement"] is None
    assert s.page(label="neu")["total"] == 100
    assert s.page(status="decided")["total"] == 0


def test_finish_refuses_to_overwrite_a_dataset_it_did_not_write(tmp_path):
    app = App(tmp_path, sentiment(6))
    gt.save(mixed(), tmp_path / "out")
    s = ReviewSession.open(app.ds, app.log, reviewer="lead", out=str(tmp_path / "out"))
    with pytest.raises(ReviewInputError, match="does not derive"):
        s.finish()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_access_token_host_check_and_csrf(tmp_path):
    app = App(tmp_path, sentiment(6))
    session = ReviewSession.open(app.ds, app.log, reviewer="lead")
    server = ReviewServer(session, "0.0.0.0", 0)  # not loopback: a token is required
    server.start_background()
    try:
        assert server.needs_token
        assert f"?token={server.token}" in server.url
        base = f"http://127.0.0.1:{server.port}"
        host = {"Host": f"0.0.0.0:{server.port}"}
        assert _get(base + "/api/facets", host)[0] == 403
        assert _get(base + "/api/facets", {**host, "X-Review-Token": server.token})[0] == 200
        assert _get(f"{base}/?token={server.token}", host)[0] == 200
        assert _get(base + "/api/facets", {"Host": "evil.example:80",
                                           "X-Review-Token": server.token})[0] == 403
    finally:
        server.shutdown()
        server.server_close()
    local = ReviewServer(session, "127.0.0.1", 0)
    local.start_background()
    try:
        assert not local.needs_token
        assert "token" not in local.url
        base = f"http://127.0.0.1:{local.port}"
        status, page = _get(base + "/")
        assert status == 200
        body = json.dumps({"item_id": "t001", "action": "accept", "annotator": "rater-a"})
        req = urllib.request.Request(base + "/api/decide", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as exc:  # a cross-site form has no token
            urllib.request.urlopen(req, timeout=10)
        assert exc.value.code == 403
        req.add_header("X-Review-Token", local.token)
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.loads(r.read())["saved"] is True
        assert local.token.encode() in page  # the page holds it for its own requests
    finally:
        local.shutdown()
        local.server_close()


def test_cli_review_refuses_a_busy_port_and_remote_path_without_log(tmp_path):
    import socket
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[2] / "src")
    gt.save(sentiment(3), tmp_path / "ds")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "groundtruth", "review", str(tmp_path / "ds"),
                            "--port", str(port)], capture_output=True, text=True, timeout=60,
                           env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"}, check=False)
    assert r.returncode == 2
    assert "cannot listen" in r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "groundtruth", "review", "memory://x"],
                       capture_output=True, text=True, timeout=60,
                       env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"}, check=False)
    assert r.returncode == 2
    assert "--decisions" in r.stderr


def test_image_items_need_no_network(tmp_path):
    # an absolute path or ../ URI is not read (the diff media policy), and the page says why
    ds = mixed()
    ds.items[0] = Item(id="img1", kind="image", uri="../../etc/passwd", width=64, height=48)
    app = App(tmp_path, ds)
    s = ReviewSession.open(app.ds, app.log, reviewer="lead", media_root=str(tmp_path / "ds"))
    media = s.item("img1")["media"]
    assert media["href"] is None
    assert "'..'" in media["note"]


def test_pick_spans_across_versions_merge_and_adjust_boundaries(browser, tmp_path):
    ds = mixed()
    app = App(tmp_path, ds)
    page, errors = _open(browser, app.start())
    page.locator("#queue li[data-item='doc1']").click()
    expect(page.locator(".text mark")).to_have_count(3)
    # pick rater-c's ORG span "Ada" and rater-a's PER span, keep both with m
    page.locator(".version[data-annotator='rater-c'] mark").click()
    # the pick re-renders the versions: wait for it before the next click (a click on the old
    # element is lost on a slow machine)
    expect(page.locator("#b-merge")).to_have_text("Keep picked (1)")
    page.locator(".version[data-annotator='rater-a'] mark").click()
    expect(page.locator("#b-merge")).to_have_text("Keep picked (2)")
    page.keyboard.press("m")
    _wait_saved(page, 0, app.log)
    # back to doc1: pick one span, move its end, save with e
    page.select_option("#f-status", "all")
    page.locator("#queue li[data-item='doc1']").click()
    expect(page.locator("#current-decision")).to_contain_text("Decided: merged")
    page.locator(".version[data-annotator='rater-b'] mark").click()
    expect(page.locator("#span-edit")).to_be_visible()
    page.fill("#d-end", "16")
    page.locator("body").click(position={"x": 5, "y": 880})
    page.keyboard.press("e")
    _wait_saved(page, 1, app.log)
    assert errors == []
    app.stop()
    merged, edited = (d.record for d in read_decisions(app.log))
    assert (merged.decision, sorted(merged.accepted)) == ("merged", ["s-rater-a", "s-rater-c"])
    assert merged.overruled == ["s-rater-b"]
    assert sorted((b["start"], b["end"], b["label"]) for b in merged.annotations) == [
        (0, 3, "ORG"), (0, 12, "PER")]
    assert (edited.decision, edited.accepted) == ("edited", ["s-rater-b"])
    assert edited.annotations == [{"type": "span", "label": "PER", "label_set": "ner",
                                   "start": 0, "end": 16, "text": "Ada Lovelace met"}]
    # both decisions consider every version of doc1: the later one (the edit) is in force
    out = adjudicate(app.ds, app.log)
    adj = [(a.start, a.end, a.adjudication.decision) for a in out.annotations
           if a.adjudication is not None]
    assert adj == [(0, 16, "edited")]


def test_cli_review_serves_and_prints_the_url(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[2] / "src")
    gt.save(sentiment(6), tmp_path / "ds")
    proc = subprocess.Popen(
        [sys.executable, "-m", "groundtruth", "review", str(tmp_path / "ds"), "--port", "0",
         "--reviewer", "lead"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "2 item(s) in the queue, 0 already decided" in first
        assert f"decisions -> {tmp_path / 'ds'}.decisions.jsonl" in first
        url = proc.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        status, body = _get(url + "api/facets")
        assert status == 200
        assert json.loads(body)["reviewer"] == "lead"
    finally:
        os.kill(proc.pid, signal.SIGINT)
        out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopped; every decision is in the log" in out


def test_transcriptions_are_shown_as_word_diffs_against_the_first_version(browser, tmp_path):
    from groundtruth.models import Annotator, Manifest, Transcription

    items = [Item(id="clip", kind="audio", uri="clip.wav", duration=3.0)]
    said = {"rater-a": "the cat sat on the mat", "rater-b": "the cat sat on a mat",
            "rater-c": "a cat sat on the hat <b>now</b>"}
    anns = [Transcription(id=f"tr-{w}", item_id="clip", annotator=w, text=t)
            for w, t in said.items()]
    manifest = Manifest(annotators=[Annotator(id=w, kind="human") for w in said])
    app = App(tmp_path, gt.Dataset(manifest, items, anns), include_all=True)
    page, errors = _open(browser, app.start())
    assert page.inner_text("#item-title").startswith("clip")
    ins = page.locator(".version").evaluate_all(
        "cs => cs.map(c => [...c.querySelectorAll('.choices ins')].map(i => i.textContent))")
    assert ins == [[], ["a"], ["a", "hat", "<b>now</b>"]]
    assert errors == []
    app.stop()


def test_one_session_per_log(tmp_path):
    app = App(tmp_path, sentiment(6))
    first = ReviewSession.open(app.ds, app.log, reviewer="lead")
    with pytest.raises(ReviewInputError, match="another review session"):
        ReviewSession.open(app.ds, app.log, reviewer="other")
    first.close()
    second = ReviewSession.open(app.ds, app.log, reviewer="other")
    second.decide({"item_id": "t001", "action": "unclear"})
    second.close()
    assert [d.record.id for d in read_decisions(app.log)] == ["other-000001"]


def test_preferences_show_the_conversation_candidates_and_each_choice(browser, tmp_path):
    from groundtruth.models import Annotator, Candidate, Manifest, Message, Ranking

    items = [Item(id="chat", kind="conversation",
                  messages=[Message(role="user", content="Name a prime.")],
                  candidates=[Candidate(id="A", text="7"), Candidate(id="B", text="<i>9</i>")])]
    order = {"rater-a": [["A"], ["B"]], "rater-b": [["A"], ["B"]], "rater-c": [["B"], ["A"]]}
    anns = [Ranking(id=f"r-{w}", item_id="chat", annotator=w, ranking=r)
            for w, r in order.items()]
    manifest = Manifest(annotators=[Annotator(id=w, kind="human") for w in order])
    app = App(tmp_path, gt.Dataset(manifest, items, anns), include_all=True)
    page, errors = _open(browser, app.start())
    assert page.locator("#context .msg").all_text_contents() == ["user: Name a prime."]
    assert page.locator("#context .cand").all_text_contents() == ["A: 7", "B: <i>9</i>"]
    choices = page.locator(".version .choices li").all_text_contents()
    assert choices == ["ranking: A  >  B", "ranking: A  >  B", "ranking: B  >  A"]
    page.keyboard.press("3")
    _wait_saved(page, 0, app.log)
    assert errors == []
    app.stop()
    [d] = read_decisions(app.log)
    assert (d.record.accepted, d.record.overruled) == (["r-rater-c"], ["r-rater-a", "r-rater-b"])


def test_masks_are_drawn_in_the_annotator_colour(browser, tmp_path):
    import io

    import numpy as np
    from PIL import Image

    from groundtruth.geometry import rle_encode
    from groundtruth.models import Annotator, Label, LabelSet, Manifest, Mask, Rle, Taxonomy

    h, w = 40, 60
    items = [Item(id="img", kind="image", uri="img.png", width=w, height=h)]
    anns = []
    for who, (x0, x1) in (("rater-a", (5, 25)), ("rater-b", (30, 55))):
        m = np.zeros((h, w), bool)
        m[10:30, x0:x1] = True
        anns.append(Mask(id=f"m-{who}", item_id="img", label="cat", annotator=who,
                         rle=Rle(size=[h, w], counts=rle_encode(m)), bbox=[x0, 10, x1 - x0, 20]))
    manifest = Manifest(
        taxonomy=Taxonomy(label_sets=[LabelSet(name="objects", labels=[Label(name="cat")])]),
        annotators=[Annotator(id=x, kind="human") for x in ("rater-a", "rater-b")])
    (tmp_path / "ds").mkdir()
    gt.save(gt.Dataset(manifest, items, anns), tmp_path / "ds", overwrite=True)
    Image.new("RGB", (w, h), (255, 255, 255)).save(tmp_path / "ds" / "img.png")
    app = App(tmp_path, gt.Dataset(manifest, items, anns))
    page, errors = _open(browser, app.start())
    expect(page.locator(".version svg mask image")).to_have_count(2)
    card = page.locator(".version[data-annotator='rater-a'] .canvas")
    shot = Image.open(io.BytesIO(card.screenshot())).convert("RGB")
    sx, sy = shot.width / w, shot.height / h
    inside = shot.getpixel((int(15 * sx), int(20 * sy)))   # in rater-a's mask
    outside = shot.getpixel((int(42 * sx), int(20 * sy)))  # in rater-b's, not rater-a's
    assert outside == (255, 255, 255)
    assert inside[1] < 200
    assert inside[0] > inside[1]
    assert errors == []
    app.stop()
