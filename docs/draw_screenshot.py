"""docs/draw.png: the drawing page with a digit drawn, as the README shows it.

    python docs/draw_screenshot.py MODEL [--out docs/draw.png]

Serves MODEL as `python -m src.draw` does, draws a 7 with mouse strokes in headless Chromium
(Debian's /usr/bin/chromium, driven by Playwright, as tests/test_draw_browser.py does) and
writes a screenshot of the whole page. The README's comes from the model of
`python -m src.train --deskew` (defaults otherwise).
"""

import argparse
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright

from src.draw import make_server
from src.modelfile import load_model

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEVEN = [[(85, 62), (135, 58), (192, 60), (165, 110), (140, 165), (122, 228)], [(118, 140), (180, 140)]]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--out", default=str(ROOT / "docs" / "draw.png"))
    args = p.parse_args(argv)
    server = make_server(load_model(args.model))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(server.url)
        box = page.locator("#canvas").bounding_box()
        scale = box["width"] / 280
        for stroke in SEVEN:
            page.mouse.move(box["x"] + stroke[0][0] * scale, box["y"] + stroke[0][1] * scale)
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=8)
            page.mouse.up()
        page.wait_for_function("() => document.body.dataset.busy === '0' && "
                               "document.getElementById('prediction').textContent !== ''")
        page.screenshot(path=args.out, full_page=True)
        print(f"{args.out}: the page says {page.text_content('#prediction')}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
