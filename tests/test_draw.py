"""`python -m src.draw`: the page's HTTP API, in-process, against a real server on loopback.

Its answers are src.predict's on the same PNG files (the command line's JSON, to 1e-6); every
bad request is a 4xx with one line of JSON and the server goes on; 50 requests at once are
all answered; the evidence maps add up to the logits.
"""

import http.client
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from src import draw
from src.data import deskew, load_full_mnist
from src.errors import UserError
from src.mnist import MNISTError, load_mnist
from src.modelfile import load_model, save_model
from src.models import SoftmaxModel
from src.predict import classify, see
from src.predict import main as predict_main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.png"))
TOL = 1e-6  # probabilities: the same float32 computation, printed and parsed


def serve(saved, **kwargs):
    server = draw.make_server(saved, **kwargs)
    # A short poll: shutdown() waits for it.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def softmax(draw_models):
    return load_model(draw_models["softmax"])


@pytest.fixture(scope="module")
def server(softmax):
    server = serve(softmax)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def binary_server(draw_models):
    server = serve(load_model(draw_models["binary"]))
    yield server
    server.shutdown()
    server.server_close()


def ask(server, method, path, body=None, headers=None):
    """One request -> (status, headers, body as JSON if it is JSON, else bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    kind = response.getheader("Content-Type", "")
    return response.status, response, json.loads(data) if kind == "application/json" else data


def post_png(server, png):
    return ask(server, "POST", "/api/predict", png, {"Content-Type": "image/png"})


def raw(server, data, shut_write=False, timeout=5):
    """Bytes straight onto the socket -> the whole answer, as bytes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_and_json(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def stroke_png(points, width, size=280, light_on_transparent=True):
    """Strokes as a drawing page sends them: white ink on a transparent canvas (or black on white)."""
    ground = (0, 0, 0, 0) if light_on_transparent else (255, 255, 255, 255)
    ink = (255, 255, 255, 255) if light_on_transparent else (0, 0, 0, 255)
    image = Image.new("RGBA", (size, size), ground)
    ImageDraw.Draw(image).line(points, fill=ink, width=width, joint="curve")
    return png_bytes(image)


SEVEN = [(90, 60), (190, 60), (150, 150), (120, 230)]
ONE = [(140, 40), (140, 240)]


def png_bomb(side):
    """A 1-bit PNG of side x side black pixels: a few kB that decode to side^2 bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row, z = bytes(1 + (side + 7) // 8), zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def pngs(tmp_path_factory, mnist_dir):
    """PNG files of every kind the page and a user send: strokes (transparent and opaque, thick and
    thin, small and off-centre), photos of held-out digits, and MNIST test digits as they are."""
    folder = tmp_path_factory.mktemp("pngs")
    files = {
        "seven-transparent": stroke_png(SEVEN, 18),
        "seven-opaque": stroke_png(SEVEN, 18, light_on_transparent=False),
        "one-thin": stroke_png(ONE, 3),
        "seven-thick-small-corner": stroke_png([(x // 3 + 170, y // 3 + 10) for x, y in SEVEN], 12),
    }
    test_images = load_mnist(mnist_dir)[2]
    for i in range(4):
        files[f"mnist-{i}"] = png_bytes(Image.fromarray(test_images[i]))
    paths = []
    for name, data in files.items():
        paths.append(folder / f"{name}.png")
        paths[-1].write_bytes(data)
    return paths + EXAMPLES


# --- the answers are src.predict's ------------------------------------------------------------------


def cli_answers(model_path, paths, capsys):
    capsys.readouterr()
    assert predict_main([str(model_path), *map(str, paths), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("kind", ["softmax", "binary"])
def test_predict_gives_what_the_command_line_gives_for_the_same_png(
        kind, draw_models, server, binary_server, pngs, capsys):
    """The class and every probability (to 1e-6) of `python -m src.predict --json`, and its 28x28 view."""
    target = server if kind == "softmax" else binary_server
    saved = load_model(draw_models[kind])
    for path, expected in zip(pngs, cli_answers(draw_models[kind], pngs, capsys), strict=True):
        status, _, answer = post_png(target, path.read_bytes())
        assert status == 200, (path.name, answer)
        assert answer["prediction"] == expected["prediction"], path.name
        assert answer["class_names"] == list(expected["probabilities"])
        np.testing.assert_allclose(answer["probabilities"], list(expected["probabilities"].values()), atol=TOL)
        np.testing.assert_array_equal(answer["seen"], see(saved, path), err_msg=path.name)


def test_the_page_s_transparent_drawing_and_the_same_drawing_on_paper_read_alike(server):
    """White ink on a transparent canvas (the page) and black ink on white: the same 28x28 image."""
    answers = [post_png(server, stroke_png(SEVEN, 18, light_on_transparent=t))[2] for t in (True, False)]
    assert answers[0]["seen"] == answers[1]["seen"]
    assert sum(map(sum, answers[0]["seen"])) > 255 * 20  # and not empty: a stroke of ink


def logits_from(answer):
    return {e["class"]: e["logit"] for e in answer["evidence"]}


def test_softmax_evidence_is_w_times_x_and_adds_up_to_the_logits(server, softmax):
    """map = w_k * x (x = seen/127.5 - 1), sum = its total, logit = sum + bias; the logits give the
    probabilities' ratio (softmax: p_a / p_b = exp(z_a - z_b)); top class first, then the runner-up."""
    answer = post_png(server, stroke_png(SEVEN, 18))[2]
    top, runner_up = answer["evidence"]
    p = dict(zip(answer["class_names"], answer["probabilities"]))
    assert top["class"] == answer["prediction"]
    assert runner_up["class"] == max((c for c in p if c != top["class"]), key=p.get)
    x = np.asarray(answer["seen"], dtype=np.float64) / 127.5 - 1
    for e in (top, runner_up):
        k = answer["class_names"].index(e["class"])
        w = softmax.model.w[:, k].astype(np.float64)
        # Each value is rounded to 4 significant digits of its panel's largest |value|.
        template, votes = w[:-1].reshape(28, 28), w[:-1].reshape(28, 28) * x
        np.testing.assert_allclose(e["template"], template, rtol=0, atol=np.abs(template).max() * 1e-3)
        np.testing.assert_allclose(e["map"], votes, rtol=0, atol=np.abs(votes).max() * 1e-3)
        assert e["sum"] == pytest.approx(float(w[:-1] @ x.ravel()), rel=1e-9)
        assert e["bias"] == pytest.approx(float(w[-1]), rel=1e-9)
        assert e["logit"] == pytest.approx(e["sum"] + e["bias"], rel=1e-12)
    ratio = p[top["class"]] / p[runner_up["class"]]
    assert ratio == pytest.approx(np.exp(top["logit"] - runner_up["logit"]), rel=1e-4)  # float32 model


def test_binary_evidence_is_the_one_score_whose_sigmoid_is_the_probability_of_class_1(binary_server):
    answer = post_png(binary_server, stroke_png(SEVEN, 18))[2]
    (score,) = answer["evidence"]
    assert answer["kind"] == "binary" and answer["class_names"] == ["3", "2"]  # target 0, target 1
    assert score["class"] == "2"
    assert 1 / (1 + np.exp(-score["logit"])) == pytest.approx(answer["probabilities"][1], abs=1e-5)
    assert answer["prediction"] == ("2" if score["logit"] > 0 else "3")


def test_example_is_a_held_out_test_image_with_its_label_and_the_same_panels(server, softmax, mnist_dir):
    """A random test image the model neither trained nor validated on (its recorded split), deskewed
    as the model was trained, classified as src.predict.classify classifies it."""
    h = softmax.hyperparameters
    held_out = load_full_mnist(h["train_size"], h["val_size"], h["seed"], mnist_dir)
    seen_indices = set()
    for _ in range(5):
        status, _, answer = ask(server, "GET", "/api/example")
        assert status == 200
        i = answer["test_index"]
        seen_indices.add(i)
        assert answer["held_out"] is True
        assert answer["label"] == str(held_out.y_test[i])
        image = deskew(held_out.X_test[i].reshape(28, 28))
        np.testing.assert_array_equal(answer["seen"], image)
        prediction, probabilities = classify(softmax, image)
        assert answer["prediction"] == softmax.class_names[prediction]
        np.testing.assert_allclose(answer["probabilities"], probabilities, atol=1e-12)
        assert len(answer["evidence"]) == 2
    assert len(seen_indices) > 1  # random, not one image


def test_binary_example_is_one_of_its_two_classes(binary_server):
    answers = [ask(binary_server, "GET", "/api/example")[2] for _ in range(5)]
    assert {a["label"] for a in answers} <= {"2", "3"}


def test_fashion_mnist_model_names_its_classes(fashion_mnist_dir, tmp_path):
    """A Fashion-MNIST model: class names in /api/model and the answers, its test images as examples."""
    path = tmp_path / "fashion.npz"
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot")
    model = SoftmaxModel()
    model.w = np.random.default_rng(0).normal(0, 0.01, model.w.shape)
    save_model(path, model, kind="softmax", dataset="fashion-mnist", class_names=names,
               hyperparameters={}, metrics={})
    server = serve(load_model(path), data_dir=str(fashion_mnist_dir))
    try:
        assert ask(server, "GET", "/api/model")[2] == {"kind": "softmax", "dataset": "fashion-mnist",
                                                       "title": "Fashion-MNIST",
                                                       "class_names": list(names)}
        status, _, example = ask(server, "GET", "/api/example")
        assert status == 200 and example["label"] in names and example["prediction"] in names
        assert example["held_out"] is False  # no recorded split: the whole test set
        trouser = png_bytes(Image.fromarray(load_mnist(fashion_mnist_dir, "fashion-mnist")[2][2]))
        status, _, answer = post_png(server, trouser)
        assert status == 200 and answer["class_names"] == list(names)
    finally:
        server.shutdown()
        server.server_close()


# --- every bad request: a 4xx, one line of JSON, and the server goes on ----------------------------


def assert_one_line_error(status, expected, answer):
    assert status == expected, answer
    assert set(answer) == {"error"} and answer["error"] and "\n" not in answer["error"], answer


BAD_REQUESTS = {
    "unknown page": ("GET", "/nope", None, {}, 404),
    "a path that climbs": ("GET", "/../../etc/passwd", None, {}, 404),
    "the source of the server": ("GET", "/draw.py", None, {}, 404),
    "an encoded climb": ("GET", "/%2e%2e/README.md", None, {}, 404),
    "an asset's folder": ("GET", "/draw_page/index.html", None, {}, 404),
    "GET the predictor": ("GET", "/api/predict", None, {}, 405),
    "POST the page": ("POST", "/", b"x", {"Content-Type": "image/png"}, 405),
    "POST elsewhere": ("POST", "/api/nothing", b"x", {"Content-Type": "image/png"}, 404),
    "DELETE": ("DELETE", "/", None, {}, 405),
    "PUT": ("PUT", "/api/predict", b"x", {"Content-Type": "image/png"}, 405),
    "an unknown method": ("BREW", "/", None, {}, 405),
    "no Content-Type": ("POST", "/api/predict", b"\x89PNG", {}, 415),
    "text": ("POST", "/api/predict", b"hello", {"Content-Type": "text/plain"}, 415),
    "JSON": ("POST", "/api/predict", b"{}", {"Content-Type": "application/json"}, 415),
    "an empty body": ("POST", "/api/predict", b"", {"Content-Type": "image/png"}, 400),
    "garbage as a PNG": ("POST", "/api/predict", os.urandom(5000), {"Content-Type": "image/png"}, 422),
    "a PNG cut short": ("POST", "/api/predict", stroke_png(SEVEN, 18)[:200], {"Content-Type": "image/png"}, 422),
    "a JPEG sent as PNG": ("POST", "/api/predict", b"\xff\xd8\xff\xe0" + bytes(100), {"Content-Type": "image/png"},
                           422),
    "a blank canvas": ("POST", "/api/predict", png_bytes(Image.new("RGBA", (280, 280))),
                       {"Content-Type": "image/png"}, 422),
    "white paper": ("POST", "/api/predict", png_bytes(Image.new("L", (280, 280), 255)),
                    {"Content-Type": "image/png"}, 422),
    "a foreign Host": ("GET", "/", None, {"Host": "attacker.example:80"}, 403),
    "a foreign Host on the API": ("POST", "/api/predict", stroke_png(SEVEN, 18),
                                  {"Content-Type": "image/png", "Host": "rebind.attacker.example"}, 403),
    "a bad Content-Length": ("POST", "/api/predict", None, {"Content-Type": "image/png",
                                                             "Content-Length": "many"}, 400),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_request_is_a_4xx_with_one_line_of_json(name, server):
    method, path, body, headers, expected = BAD_REQUESTS[name]
    status, response, answer = ask(server, method, path, body, headers)
    assert_one_line_error(status, expected, answer)
    assert response.getheader("Access-Control-Allow-Origin") is None
    assert ask(server, "GET", "/")[0] == 200  # still serving


def test_no_ink_says_so(server):
    status, _, answer = post_png(server, png_bytes(Image.new("RGBA", (280, 280))))
    assert status == 422 and answer["error"].startswith("the PNG: no ink")


def test_body_over_2_mb_is_413_before_a_byte_of_it_is_read(server):
    """Only the headers of a 3 MB body are sent: the answer comes anyway, at once."""
    head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {3 * 1024 * 1024}\r\n\r\n").encode()
    status, answer = status_and_json(raw(server, head))
    assert_one_line_error(status, 413, answer)


def test_body_of_3_mb_sent_whole_is_413(server):
    try:
        status, _, answer = post_png(server, os.urandom(3 * 1024 * 1024))
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the server closed the connection without answering 413")
    assert_one_line_error(status, 413, answer)


def test_bomb_png_is_a_4xx_in_under_a_second(server):
    """All black, 1 bit per pixel: 20000 x 20000 in 49 kB (over the pipeline's limit), 7000 x 7000
    (under it, over the page's), 4096 x 4096 (the most the page reads: decoded, no ink)."""
    for side in (20000, 7000, 4096):
        bomb = png_bomb(side)
        start = time.perf_counter()
        status, _, answer = post_png(server, bomb)
        elapsed = time.perf_counter() - start
        assert 400 <= status < 500 and "error" in answer
        assert elapsed < 1.0, f"{side} x {side}: {elapsed:.2f} s"


@pytest.mark.parametrize("garbage", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(50) + b"\r\n\r\n",  # a TLS hello
    b"HELLO\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
])
def test_garbage_on_the_socket_is_a_4xx_with_one_line_of_json(garbage, server):
    status, answer = status_and_json(raw(server, garbage))
    assert 400 <= status < 500
    assert set(answer) == {"error"} and "\n" not in answer["error"]


def test_request_without_host_is_403(server):
    status, answer = status_and_json(raw(server, b"GET / HTTP/1.0\r\n\r\n"))
    assert_one_line_error(status, 403, answer)


def test_body_cut_short_is_400(server):
    head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: image/png\r\n"
            "Content-Length: 1000\r\n\r\n").encode()
    status, answer = status_and_json(raw(server, head + b"\x89PNG", shut_write=True))
    assert_one_line_error(status, 400, answer)


def test_chunked_body_is_411(server):
    head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: image/png\r\n"
            "Transfer-Encoding: chunked\r\n\r\n4\r\n\x89PNG\r\n0\r\n\r\n").encode("latin-1")
    status, answer = status_and_json(raw(server, head))
    assert_one_line_error(status, 411, answer)


def test_a_stalled_client_is_let_go_and_others_are_served(server, monkeypatch):
    """A request that never ends holds its connection for Handler.timeout, not for ever."""
    monkeypatch.setattr(draw.Handler, "timeout", 0.3)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /api/predict HTTP/1.1\r\n")  # ... and nothing more
        assert ask(server, "GET", "/")[0] == 200
        start = time.perf_counter()
        assert sock.recv(1) == b""  # closed by the server
        assert time.perf_counter() - start < 3


def test_page_and_its_assets_are_a_fixed_set_with_a_strict_policy(server):
    for path, (name, kind) in draw.ASSETS.items():
        status, response, body = ask(server, "GET", path)
        assert status == 200 and response.getheader("Content-Type") == kind
        assert body == (ROOT / "src" / "draw_page" / name).read_bytes()
        assert "default-src 'self'" in response.getheader("Content-Security-Policy")
        assert response.getheader("Access-Control-Allow-Origin") is None
    page = (ROOT / "src" / "draw_page" / "index.html").read_text()
    for element in ('id="canvas"', 'id="clear"', 'id="prediction"'):
        assert element in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere


def test_50_concurrent_requests_are_all_answered(server):
    # A small drawing: the pipeline's time is not what this measures (2 cores, 50 requests).
    png, n = stroke_png([(x * 0.3, y * 0.3) for x, y in SEVEN], 6, size=84), 50
    barrier, answers, errors = threading.Barrier(n), [None] * n, []

    def one(i):
        try:
            barrier.wait(timeout=10)
            answers[i] = post_png(server, png)
        except Exception as err:  # noqa: BLE001 - collected and reported below
            errors.append(repr(err))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert [status for status, _, _ in answers] == [200] * n
    assert len({json.dumps(answer) for _, _, answer in answers}) == 1  # all the same answer


def test_example_without_test_images_says_why_in_one_line(softmax, monkeypatch):
    def missing(*args, **kwargs):
        raise MNISTError("MNIST files not found: t10k-images-idx3-ubyte.\nLooked in:\n  /nowhere\n"
                         "Download the four files by hand, or set MNIST_DATA_DIR to a folder that holds them.")

    monkeypatch.setattr(draw, "load_mnist", missing)
    server = serve(softmax)
    try:
        status, _, answer = ask(server, "GET", "/api/example")
        assert_one_line_error(status, 404, answer)
        assert "MNIST_DATA_DIR" in answer["error"]
    finally:
        server.shutdown()
        server.server_close()


# --- the command ------------------------------------------------------------------------------------


def test_listens_on_loopback_only_by_default(softmax):
    with draw.make_server(softmax) as server:
        assert server.server_address[0] == "127.0.0.1" and server.loopback
        assert server.url == f"http://127.0.0.1:{server.port}/"


def test_a_port_in_use_is_one_line(softmax):
    with draw.make_server(softmax) as taken, pytest.raises(UserError, match="choose another --port"):
        draw.make_server(softmax, port=taken.port)


def test_a_host_other_than_loopback_warns(draw_models, monkeypatch, capsys):
    def stop(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(draw.DrawServer, "serve_forever", stop)
    with pytest.raises(KeyboardInterrupt):
        draw.main([str(draw_models["softmax"]), "--host", "0.0.0.0", "--no-browser"])
    err = capsys.readouterr().err
    assert err.startswith("warning: listening on 0.0.0.0, not loopback") and err.count("\n") == 1


def test_the_command_serves_until_ctrl_c_which_is_one_line(draw_models, pngs, capsys):
    """python -m src.draw MODEL --no-browser --port P: the URL on stdout, on loopback; src.predict's
    class for a PNG file; 403, 413 and a garbage 4xx; then Ctrl-C ends it: exit 130, one line."""
    with socket.socket() as probe:  # a free port to ask for
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "src.draw", str(draw_models["softmax"]), "--no-browser",
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f" at http://127.0.0.1:{port}/ " in line, line
        running = SimpleNamespace(port=port)  # all that ask() and raw() need of a server
        status, _, answer = post_png(running, pngs[0].read_bytes())
        (expected,) = cli_answers(draw_models["softmax"], pngs[:1], capsys)
        assert status == 200 and answer["prediction"] == expected["prediction"]
        assert ask(running, "GET", "/", headers={"Host": f"evil.example:{port}"})[0] == 403
        head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: image/png\r\n"
                f"Content-Length: {3 * 1024 * 1024}\r\n\r\n").encode()
        assert status_and_json(raw(running, head))[0] == 413
        assert 400 <= status_and_json(raw(running, b"\x00\x01garbage\r\n\r\n"))[0] < 500
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.count("\n") == 1 and err.startswith("interrupted (Ctrl-C)"), err


def test_a_model_file_that_is_not_one_is_one_line(tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_text("not a model")
    with pytest.raises(UserError, match="not a usable model file"):
        draw.main([str(bad), "--no-browser"])


def test_example_of_a_model_without_a_recorded_split_is_from_the_whole_test_set(draw_models, tmp_path):
    """A binary model file not written by src.train: its two classes, found by name, from all 10,000."""
    saved = load_model(draw_models["binary"])
    path = save_model(tmp_path / "binary.npz", saved.model, kind="binary", dataset="mnist",
                      class_names=["3", "2"], hyperparameters={}, metrics={})
    odd = save_model(tmp_path / "odd.npz", saved.model, kind="binary", dataset="mnist",
                     class_names=["cat", "dog"], hyperparameters={}, metrics={})
    for model, check in ((path, "found"), (odd, "missing")):
        server = serve(load_model(model))
        try:
            status, _, answer = ask(server, "GET", "/api/example")
            if check == "found":
                assert status == 200 and answer["held_out"] is False and answer["label"] in ("2", "3")
            else:
                assert_one_line_error(status, 404, answer)
                assert "cat, dog" in answer["error"]
        finally:
            server.shutdown()
            server.server_close()
