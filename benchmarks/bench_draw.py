"""Benchmark: how long the drawing page waits for an answer, against a running `python -m src.draw`.

    python benchmarks/bench_draw.py [MODEL] [--requests 300] [--data-dir DIR]

Starts `python -m src.draw MODEL --no-browser` (one BLAS thread) as the page's user would, and
POSTs drawings to /api/predict as the page sends them: 280x280 PNGs of white strokes on a
transparent canvas (digits of several shapes, widths and places). Rows, each the median,
90th percentile and maximum of --requests requests made one after another (the page never has
two in flight):

    POST /api/predict, one kept-alive connection   what the page does (HTTP/1.1 keep-alive)
    POST /api/predict, a new connection each       a script that opens one per request
    GET /api/example                               the "A test image" button
    in process: see (PNG -> 28x28)                 src.predict.see alone, the pipeline's share
    in process: explanation + JSON                 classify, the evidence maps, json.dumps

The target: a median POST /api/predict under 50 ms. Without MODEL, a model is trained first as
`python -m src.train --deskew` would (the recommended one; ~5 s), into a temporary folder.
"""

import argparse
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy: the server's setting too

from PIL import Image, ImageDraw

TARGET_MS = 50
STROKES = {  # in the canvas's 280x280 pixels
    "seven": [[(90, 60), (190, 60), (150, 150), (120, 230)]],
    "zero": [[(140, 50), (90, 90), (85, 170), (140, 230), (195, 170), (190, 90), (140, 50)]],
    "four": [[(110, 50), (85, 150), (200, 150)], [(170, 60), (165, 240)]],
    "one": [[(140, 40), (142, 240)]],
}


def drawings():
    """PNG bytes as the page sends them: white ink on a transparent canvas, several widths and places."""
    out = []
    for strokes in STROKES.values():
        for width, shrink, shift in ((18, 1, 0), (4, 1, 0), (36, 1, 0), (8, 3, 180)):
            image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
            pen = ImageDraw.Draw(image)
            for stroke in strokes:
                pen.line([(x / shrink + shift, y / shrink + shift / 9) for x, y in stroke],
                         fill=(255, 255, 255, 255), width=width, joint="curve")
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            out.append(buffer.getvalue())
    return out


def train_recommended(folder, data_dir):
    """model.npz as `python -m src.train --deskew` writes it (without its figures)."""
    from dataclasses import replace

    from src.experiment import TASK3, train_run
    from src.train import save_trained_model

    settings = replace(TASK3, deskew=True)
    record, w = train_run(settings, data_dir)
    path = Path(folder) / "model.npz"
    save_trained_model(path, w, settings, record)
    print(f"trained {path} (test accuracy {record['final']['test_accuracy']:.4f})", flush=True)
    return path


def timed(n, call):
    """call() n times -> milliseconds each."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def row(name, times):
    q = statistics.quantiles(times, n=10)
    print(f"  {name:<44} {statistics.median(times):7.2f} {q[-1]:7.2f} {max(times):7.2f}", flush=True)
    return statistics.median(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", help="a model file (default: train the recommended one first)")
    p.add_argument("--requests", type=int, default=300, help="requests per row (default: 300)")
    p.add_argument("--data-dir", help="the model's dataset, for GET /api/example and training")
    args = p.parse_args(argv)
    pngs = drawings()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(args.model) if args.model else train_recommended(tmp, args.data_dir)
        command = [sys.executable, "-m", "src.draw", str(model), "--no-browser"]
        if args.data_dir:
            command += ["--data-dir", args.data_dir]
        server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            if " at " not in line:
                raise SystemExit(f"python -m src.draw did not start: {server.communicate()[1].strip()}")
            url = line.split(" at ")[1].split()[0]
            results = measure(int(url.rstrip("/").rsplit(":", 1)[1]), pngs, args.requests, model)
        finally:
            server.terminate()
            server.communicate(timeout=10)
    median = results["POST /api/predict, one kept-alive connection"]
    verdict = "met" if median < TARGET_MS else "NOT met"
    print(f"median POST /api/predict: {median:.2f} ms; target under {TARGET_MS} ms: {verdict}")
    return 0 if median < TARGET_MS else 1


def measure(port, pngs, n, model):
    def connect():
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def ask(conn, method, path, body=None):
        conn.request(method, path, body, {"Content-Type": "image/png"} if body else {})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path} answered {response.status}: {data[:200]!r}")

    def kept_alive(method, path, bodies=None):
        """n requests over one connection (opened for the row: an idle one is closed after 10 s)."""
        conn = connect()
        try:
            return timed(n, lambda i: ask(conn, method, path, bodies and bodies[i % len(bodies)]))
        finally:
            conn.close()

    def fresh(i):
        conn = connect()
        try:
            ask(conn, "POST", "/api/predict", pngs[i % len(pngs)])
        finally:
            conn.close()

    warm = connect()  # imports, caches, the test images loaded once
    for i in range(20):
        ask(warm, "POST", "/api/predict", pngs[i % len(pngs)])
    ask(warm, "GET", "/api/example")
    warm.close()
    print(f"{n} requests per row, {len(pngs)} different drawings; milliseconds:")
    print(f"  {'':<44} {'median':>7} {'p90':>7} {'max':>7}")
    results = {
        "POST /api/predict, one kept-alive connection": kept_alive("POST", "/api/predict", pngs),
        "POST /api/predict, a new connection each": timed(n, fresh),
        "GET /api/example": kept_alive("GET", "/api/example"),
    }
    results = {name: row(name, times) for name, times in results.items()}

    from src.draw import explanation
    from src.modelfile import load_model
    from src.predict import see

    saved = load_model(model)
    row("in process: see (PNG -> 28x28)", timed(n, lambda i: see(saved, io.BytesIO(pngs[i % len(pngs)]))))
    images = [see(saved, io.BytesIO(png)) for png in pngs]
    row("in process: explanation + JSON", timed(n, lambda i: json.dumps(explanation(saved, images[i % len(images)]))))
    return results


if __name__ == "__main__":
    sys.exit(main())
