"""The drawing page end to end, in a real headless Chromium driven by Playwright.

Digits drawn with mouse strokes (centred, small and off-centre, thick, thin): the class the page
shows is `python -m src.predict`'s on the very PNG the page sent. The blank canvas shows no guess;
Undo and a test image work; a screenshot is written. Needs Debian's `chromium` at /usr/bin/chromium
and the `playwright` package (requirements.txt); no browser is downloaded. Without them this test
is skipped with a note, and fails in CI (CI=true).
"""

import io
import json
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from src.draw import make_server
from src.modelfile import load_model
from src.predict import main as predict_main

CHROMIUM = Path("/usr/bin/chromium")
# What a machine without network needs: no sandbox (root in a container), no GPU, and no
# background traffic (QUIC, component updates, sync) that would wait on the network.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 10_000


def need_browser():
    """Playwright's sync API, or a skip (a failure in CI) saying how to get what is missing."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "the playwright package is missing: .venv/bin/pip install -r requirements.txt"
    if problem is None and not CHROMIUM.exists():
        problem = f"Chromium is not at {CHROMIUM}: install it with `apt-get install chromium` (Debian/Ubuntu)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the browser test needs a browser: {problem}")
        pytest.skip(f"no browser for the drawing page's test: {problem}")
    return sync_playwright


@pytest.fixture(scope="module")
def browser_page(draw_models):
    sync_playwright = need_browser()
    server = make_server(load_model(draw_models["softmax"]))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    sent = []
    try:
        with sync_playwright() as p:
            # launch() gives every run a fresh, temporary profile.
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1100, "height": 950})
            problems = []
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("request", lambda r: sent.append(r.post_data_buffer) if r.url.endswith("/api/predict")
                    else None)
            page.goto(server.url)
            page.wait_for_function("() => document.getElementById('model').textContent.includes('MNIST')",
                                   timeout=WAIT_MS)
            yield page, sent, problems
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def settled(page):
    """Wait until no prediction is pending or on its way."""
    page.wait_for_function("() => document.body.dataset.busy === '0'", timeout=WAIT_MS)


def draw(page, strokes, width):
    """Mouse strokes on the canvas, in its 280x280 pixels, with the stroke-width control at `width`."""
    if page.input_value("#width") != str(width):
        page.fill("#width", str(width))  # the range input; fires `input`
    box = page.locator("#canvas").bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=2)
        page.mouse.up()
    settled(page)


def clear(page):
    page.click("#clear")
    settled(page)


SEVEN = [[(90, 60), (190, 60), (150, 150), (120, 230)]]
ZERO = [[(140, 50), (90, 90), (85, 170), (140, 230), (195, 170), (190, 90), (140, 50)]]
FOUR = [[(110, 50), (85, 150), (200, 150)], [(170, 60), (165, 240)]]
ONE = [[(140, 40), (142, 240)]]
CASES = {
    "centred": (SEVEN, 18),
    "small and off-centre": ([[(200 + x // 4, 15 + y // 4) for x, y in s] for s in ZERO], 6),
    "thick": (FOUR, 36),
    "thin": (ONE, 2),
}


def test_the_page_shows_what_src_predict_says_on_the_png_it_sent(browser_page, draw_models, tmp_path, capsys):
    """Each drawing's class on the page is src.predict's on the PNG sent; blank shows no guess."""
    page, sent, problems = browser_page
    assert page.text_content("#prediction") == "" and page.text_content("#status") == "draw a digit"
    shown, files = {}, []
    for name, (strokes, width) in CASES.items():
        clear(page)
        before = len(sent)
        draw(page, strokes, width)
        assert len(sent) > before, f"{name}: nothing was sent"
        files.append(tmp_path / f"{name.replace(' ', '-')}.png")
        files[-1].write_bytes(sent[-1])
        shown[name] = page.text_content("#prediction")
    page.screenshot(path=tmp_path / "draw.png", full_page=True)
    with Image.open(tmp_path / "draw.png") as screenshot:
        assert screenshot.size[0] >= 1000

    capsys.readouterr()
    assert predict_main([str(draw_models["softmax"]), *map(str, files), "--json"]) == 0
    expected = [answer["prediction"] for answer in json.loads(capsys.readouterr().out)]
    assert list(shown.values()) == expected
    # The page sends what a drawing page naturally does: white ink on a transparent canvas.
    with Image.open(io.BytesIO(sent[-1])) as png:
        rgba = np.asarray(png.convert("RGBA"))
    assert rgba.shape == (280, 280, 4) and rgba[0, 0, 3] == 0 and rgba[..., 3].max() == 255
    # Cleared, the canvas shows no guess again, and sends nothing.
    before = len(sent)
    clear(page)
    assert page.text_content("#prediction") == "" and page.text_content("#status") == "draw a digit"
    assert page.locator("#evidence canvas").count() == 0 and len(sent) == before
    assert not problems


def test_undo_takes_back_the_last_stroke(browser_page):
    page, sent, _ = browser_page
    clear(page)
    draw(page, FOUR[:1], 18)
    first = sent[-1]
    draw(page, FOUR[1:], 18)
    assert sent[-1] != first
    page.click("#undo")
    settled(page)
    assert sent[-1] == first  # the same pixels as before the second stroke
    page.click("#undo")
    settled(page)
    assert page.text_content("#prediction") == ""


def test_a_test_image_shows_its_true_class_and_the_panels(browser_page):
    page, _, _ = browser_page
    clear(page)
    page.click("#example")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('true class')",
                           timeout=WAIT_MS)
    assert page.text_content("#prediction") in [str(d) for d in range(10)]
    assert page.locator("#evidence canvas").count() == 4  # template and evidence of two classes
    assert page.locator("#bars .bar").count() == 10


def test_without_chromium_the_test_says_how_to_get_it_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        need_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        need_browser()
