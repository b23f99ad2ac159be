"""Draw a digit: a local page that shows what the linear classifier sees, and why it decides.

    python -m src.draw MODEL [--port N] [--no-browser] [--host H] [--data-dir DIR]

Serves one page (plain HTML, CSS and JavaScript from src/draw_page/, nothing
fetched from elsewhere) on 127.0.0.1 at a free port unless --port says
which, prints its URL and opens it in the browser unless --no-browser.
Ctrl-C stops it. Each drawing goes to the server as a PNG and through
exactly the code `src.predict` runs (`see`, then `classify`), so the page
and the command line cannot disagree.

The API the page uses (every error is a 4xx with one line of JSON,
{"error": "..."}, and the server goes on):

    GET  /              the page (and /draw.css, /draw.js: a fixed set, no file system)
    POST /api/predict   body: a PNG (Content-Type: image/png, at most 2 MB and 16 megapixels)
                        -> explanation()
    GET  /api/example   a random held-out test image of the model's dataset -> explanation()
                        with "label" (its true class), "test_index" and "held_out"
    GET  /api/model     {"kind", "dataset", "title", "class_names"}

A linear model's logit of class k is z_k = sum_j w_kj x_j + b_k, so the
page can show exactly what voted for and against a class: the evidence map
w_k * x, pixel by pixel (see `evidence`).
"""

import argparse
import http.server
import io
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import threading
import time
import webbrowser
from importlib import resources
from urllib.parse import urlsplit

import numpy as np

from .cli import int_in, run
from .data import deskew, load_binary_dataset, load_full_mnist, pre_process_images
from .errors import UserError
from .images import ImageError
from .mnist import DATASETS, MNISTError, load_mnist
from .modelfile import load_model
from .predict import classify, ranked, see

MAX_BODY = 2 * 1024 * 1024  # bytes of a POSTed image: a 280x280 drawing is ~10 kB
# Pixels of a POSTed PNG: the page's 280x280 canvas, or any real drawing, is far below; a
# flat image of more (a few kB inflating to tens of MB, under the pipeline's own 50 MP limit)
# would cost the server a second each.
MAX_UPLOAD_PIXELS = 4096 * 4096
MAX_CONNECTIONS = 64        # open at once; more get 503 at once rather than a thread each
LINGER = 2                  # seconds, and LINGER_BYTES, read and dropped after a refused body (below)
LINGER_BYTES = 8 * MAX_BODY
TIMEOUT = 10                # seconds a connection may sit idle or trickle its request
MAX_ERROR = 200             # characters of an error message that quotes the request
DIGITS = 4                  # significant digits of the maps in the JSON (the sums are exact)
# The page: URL path -> (file in src/draw_page/, Content-Type). Nothing else is served.
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/draw.css": ("draw.css", "text/css; charset=utf-8"),
    "/draw.js": ("draw.js", "text/javascript; charset=utf-8"),
}
# Everything comes from this server; no inline script, no frames, no other origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m src.draw", description=__doc__.splitlines()[0])
    p.add_argument("model", metavar="MODEL", help="a model file (.npz) written by `python -m src.train`")
    p.add_argument("--port", type=int_in(0, 65535), default=0,
                   help="the port to listen on (default: a free one, printed with the URL)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default: 127.0.0.1, this machine only); another "
                        "address lets anyone who reaches it use the page")
    p.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    p.add_argument("--data-dir", help="folder with the model's dataset, for the page's test images "
                   "(default: $MNIST_DATA_DIR or $FASHION_MNIST_DATA_DIR, then data/)")
    return p.parse_args(argv)


# --- what the page shows --------------------------------------------------------------------------


def _rounded(values):
    """A float array -> nested lists rounded to DIGITS significant digits (a smaller JSON)."""
    values = np.asarray(values, dtype=np.float64)
    scale = np.max(np.abs(values)) if values.size else 0.0
    decimals = max(0, DIGITS - 1 - int(np.floor(np.log10(scale)))) if scale > 0 else 0
    return np.round(values, decimals).tolist()


def evidence(saved, image, classes):
    """What voted for and against classes `classes` (output indices) on uint8 [28, 28] `image`.

    The model's input is x = image / 127.5 - 1 in [-1, 1] (so a black pixel
    is -1 and votes too: against the classes whose weight there is
    positive). Each dict describes one linear score z = sum_j w_j x_j + b:

        class     the class it is the score of
        template  w [28, 28], the weights on the pixels
        map       w * x [28, 28], each pixel's vote; its sum is "sum"
        sum       sum_j w_j x_j;  bias: b;  logit: z = sum + bias

    A list of one dict per class. A binary model has a single score, whose
    sigmoid is the probability of class_names[1]: ask for class 1, and its
    positive votes are for class_names[1], the negative ones for class_names[0].
    """
    x = pre_process_images(image[None], dtype=np.float64)[0]  # [785], the bias input last (1)
    w = saved.model.w.astype(np.float64)
    out = []
    for k in classes:
        w_k = w[:, 0] if saved.kind == "binary" else w[:, k]
        votes = w_k[:-1] * x[:-1]
        bias = float(w_k[-1])  # its input, the bias column, is 1
        total = float(votes.sum())
        out.append({"class": saved.class_names[k], "index": int(k),
                    "template": _rounded(w_k[:-1].reshape(28, 28)), "map": _rounded(votes.reshape(28, 28)),
                    "sum": total, "bias": bias, "logit": total + bias})
    return out


def explanation(saved, image):
    """uint8 [28, 28] as the model sees it -> the JSON object the page draws.

        prediction     the predicted class's name
        class_names    every class, in output order
        probabilities  [num_classes], summing to 1
        seen           [28, 28] of 0..255: the image the model saw
        evidence       see `evidence`: softmax, the predicted class and the
                       runner-up (the larger logit wins); binary, the one
                       score (positive: class_names[1], negative: [0])
        kind, dataset  from the model file
    """
    prediction, probabilities = classify(saved, image)
    classes = [1] if saved.kind == "binary" else ranked(prediction, probabilities, top=2)
    return {"prediction": saved.class_names[prediction], "class_names": list(saved.class_names),
            "probabilities": probabilities.tolist(), "seen": image.tolist(),
            "evidence": evidence(saved, image, classes), "kind": saved.kind, "dataset": saved.dataset}


def _one_line(text):
    return " ".join(str(text).split())


class HeldOutImages:
    """The model's held-out test images, loaded once on first use (thread-safe).

    A model file from `src.train` records its split (seed, sizes, classes):
    these are the test images it used neither to train nor to validate. A
    model file without them gets its dataset's whole test set (of its two
    classes, for a binary model).
    """

    def __init__(self, saved, data_dir=None):
        self.saved, self.data_dir = saved, data_dir
        self._lock = threading.Lock()
        self._loaded = None  # (images [N, 28, 28] uint8, labels [N] in the model's output order, held out)
        self._random = random.Random()

    def _load(self):
        saved, h = self.saved, self.saved.hyperparameters
        ds = DATASETS.get(saved.dataset)
        if ds is None:
            raise UserError(f"the model's dataset {saved.dataset!r} has no test images here")
        # Find the files without downloading: a request is no time to fetch 30 MB.
        _, _, test_images, test_labels = load_mnist(self.data_dir, saved.dataset, download_missing=False)
        if h.get("dataset", saved.dataset) == saved.dataset:
            try:
                if saved.kind == "binary":
                    split = load_binary_dataset(*h["classes"], h["train_size"], h["val_size"], h["seed"],
                                                self.data_dir, saved.dataset)
                else:
                    split = load_full_mnist(h["train_size"], h["val_size"], h["seed"], self.data_dir,
                                            saved.dataset)
                return split.X_test.reshape(-1, 28, 28), split.y_test, True
            except (KeyError, TypeError, ValueError):
                pass  # no split recorded (not a file of src.train's): the whole test set, below
        if saved.kind == "binary":
            # Output index i is class_names[i]: find those classes among the dataset's labels.
            labels = [ds.class_names.index(name) for name in saved.class_names if name in ds.class_names]
            if len(labels) != 2:
                raise UserError(f"the model's classes {', '.join(saved.class_names)} are not two of "
                                f"{ds.title}'s")
            keep = np.isin(test_labels, labels)
            return test_images[keep], (test_labels[keep] == labels[1]).astype(np.int64), False
        return test_images, test_labels.astype(np.int64), False

    def images(self):
        with self._lock:
            if self._loaded is None:
                try:
                    self._loaded = self._load()
                except MNISTError as err:
                    raise UserError(f"no test images to show: {_one_line(err)}") from None
            return self._loaded

    def random_example(self):
        """-> (index in the test images, uint8 [28, 28] as the model sees it, true label index, held out?)."""
        images, labels, held_out = self.images()
        i = self._random.randrange(len(images))
        # As the model saw its test images: deskewed if it was trained so (see `src.predict.see`).
        image = deskew(images[i]) if self.saved.deskew else np.ascontiguousarray(images[i])
        return i, image, int(labels[i]), held_out


# --- the server -----------------------------------------------------------------------------------


class RequestError(Exception):
    """A bad request: its HTTP status and one line saying what is wrong."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Handler(http.server.BaseHTTPRequestHandler):
    """One connection's requests; the server (DrawServer) holds the model."""

    protocol_version = "HTTP/1.1"
    server_version = "src.draw"
    sys_version = ""
    timeout = TIMEOUT
    # Each answer goes out at once: with Nagle's algorithm, the body written after the headers
    # waited for the client's delayed ACK, 40 ms per request on a kept-alive connection
    # (benchmarks/bench_draw.py, median POST /api/predict: 67 ms with it, 7 ms without).
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass  # one person on loopback: a line per request would bury the URL

    # Every response goes through here: a body with its length, the security headers, no CORS.
    def _send(self, status, body, content_type):
        if self.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.0"  # a status line even for garbage, never HTTP/0.9's bare body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status, obj):
        self._send(status, json.dumps(obj, separators=(",", ":")).encode(), "application/json")

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (a malformed request, too long a line...) as one line of JSON.

        Each is the client's doing, so a 4xx: an unknown method 405 (not 501),
        an unknown HTTP version 400 (not 505).
        """
        code = {501: 405, 505: 400}.get(code, code)
        self.close_connection = True
        text = _one_line(message or self.responses.get(code, ("error",))[0])
        if len(text) > MAX_ERROR:  # it may quote a 64 kB request line
            text = text[:MAX_ERROR - 3] + "..."
        try:
            self._send_json(code, {"error": text})
        except OSError:
            pass  # the client has gone

    def _answer(self, route):
        try:
            self._check_host()
            route()
        except RequestError as err:
            self._send_json(err.status, {"error": _one_line(err)})
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away or stalled: nobody to answer
        except Exception as err:  # noqa: BLE001 - a bug: say so in one line and keep serving
            self.close_connection = True
            self._send_json(500, {"error": f"internal error ({type(err).__name__}: {_one_line(err)})"})

    def _check_host(self):
        """DNS rebinding: a page on another name that resolves here must not reach the API."""
        if self.headers.get("Host", "").strip().lower() not in self.server.allowed_hosts:
            self.close_connection = True
            raise RequestError(403, f"Host {self.headers.get('Host', '(none)')!r} is not this server "
                                    f"({self.server.url}); open the page at that address")

    def do_GET(self):
        self._answer(self._get)

    def do_HEAD(self):
        self._answer(self._get)

    def do_POST(self):
        self._answer(self._post)

    def _not_allowed(self):
        self._answer(self._refuse_method)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _refuse_method(self):
        self.close_connection = True  # any body it has is not read
        raise RequestError(405, f"{self.command} is not served here: GET /, /api/example and "
                                "/api/model, POST /api/predict")

    def _path(self):
        return urlsplit(self.path).path

    def _get(self):
        path = self._path()
        if path in ASSETS:
            name, content_type = ASSETS[path]
            self._send(200, self.server.assets[name], content_type)
        elif path == "/api/example":
            self._example()
        elif path == "/api/model":
            saved = self.server.saved
            title = DATASETS[saved.dataset].title if saved.dataset in DATASETS else saved.dataset
            self._send_json(200, {"kind": saved.kind, "dataset": saved.dataset, "title": title,
                                  "class_names": list(saved.class_names)})
        elif path == "/api/predict":
            raise RequestError(405, "POST a PNG to /api/predict")
        else:
            raise RequestError(404, f"no such page {path!r}: the page is at /")

    def _post(self):
        path = self._path()
        if path != "/api/predict":
            self.close_connection = True  # its body is not read
            raise RequestError(404 if path not in ASSETS and path != "/api/example" else 405,
                               f"POST {path!r} is not served here: POST a PNG to /api/predict")
        body = self._read_body()
        width, height = _png_size(body)
        if width * height > MAX_UPLOAD_PIXELS:
            raise RequestError(413, f"the PNG is {width} x {height} pixels, more than this page reads "
                                    f"({MAX_UPLOAD_PIXELS // 1_000_000} megapixels); send a smaller image")
        saved = self.server.saved
        try:
            image = see(saved, io.BytesIO(body), name="the PNG")
        except ImageError as err:
            raise RequestError(422, _one_line(err)) from None
        self._send_json(200, explanation(saved, image))

    def _read_body(self):
        """The request's body, after every check that needs no byte of it; RequestError otherwise."""
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise RequestError(411, "send the image with a Content-Length, not a Transfer-Encoding")
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise RequestError(411, "the request has no Content-Length: send a PNG as the body")
        try:
            length = int(length)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise RequestError(400, f"Content-Length {self.headers['Content-Length']!r} is not a size in bytes")
        if length > MAX_BODY:
            self.close_connection = True  # never read: the connection goes with it
            raise RequestError(413, f"the body is {length} bytes, more than {MAX_BODY} (2 MB); "
                                    "send a smaller image")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "image/png":
            self.close_connection = True
            raise RequestError(415, f"the body is {content_type or 'of no stated type'}, not image/png; "
                                    "send a PNG with Content-Type: image/png")
        if length == 0:
            raise RequestError(400, "the body is empty: send a PNG of the drawing")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise RequestError(400, f"the body ended after {len(body)} of {length} bytes")
        return body

    def _example(self):
        try:
            index, image, label, held_out = self.server.test_images.random_example()
        except UserError as err:
            raise RequestError(404, _one_line(err)) from None
        saved = self.server.saved
        answer = explanation(saved, image)
        answer.update(label=saved.class_names[label], test_index=index, held_out=held_out)
        self._send_json(200, answer)


class DrawServer(http.server.ThreadingHTTPServer):
    """The page's HTTP server: a thread per connection, at most MAX_CONNECTIONS at once."""

    daemon_threads = True  # Ctrl-C does not wait for an idle keep-alive connection
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, saved, host="127.0.0.1", port=0, data_dir=None):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.saved = saved
        self.test_images = HeldOutImages(saved, data_dir)
        page = resources.files(__package__) / "draw_page"
        self.assets = {name: (page / name).read_bytes() for name, _ in ASSETS.values()}
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__((host, port), Handler)
        bound, self.port = self.server_address[:2]
        self.loopback = _is_loopback(bound)
        names = {host.lower().strip("[]"), bound}
        if self.loopback:
            names |= {"localhost", "127.0.0.1", "::1"}
        self.allowed_hosts = {f"[{n}]:{self.port}" if ":" in n else f"{n}:{self.port}" for n in names}
        url_host = "127.0.0.1" if self.loopback and self.address_family == socket.AF_INET else host
        self.url = f"http://{f'[{url_host}]' if ':' in url_host else url_host}:{self.port}/"

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown_request(self, request):
        """Close a connection without losing the answer: a lingering close.

        A client still sending a body the server refused (413, before reading
        it) would otherwise get a reset instead of the answer: closing a socket
        with unread data makes the kernel send RST, which can overtake the
        answer. So the server stops writing, then reads and drops what still
        comes, for at most LINGER seconds and LINGER_BYTES, until the client closes.
        (40 POSTs of 3 MB with http.client: 15 resets without it, 0 with it.)
        """
        try:
            request.shutdown(socket.SHUT_WR)
            request.settimeout(LINGER)
            deadline, dropped = time.monotonic() + LINGER, 0
            while dropped < LINGER_BYTES and time.monotonic() < deadline:
                chunk = request.recv(1 << 16)
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:
            pass  # reset, timed out or already closed: nothing more to save
        self.close_request(request)

    def handle_error(self, request, client_address):
        """An error outside the handling of a request (http.server's own reading and writing)."""
        err = sys.exc_info()[1]
        if isinstance(err, OSError):
            return  # the client reset or dropped the connection: nobody to tell, nothing wrong here
        print(f"warning: a request from {client_address[0]} failed: {type(err).__name__}: {_one_line(err)}",
              file=sys.stderr, flush=True)

    def _refuse_busy(self, request):
        body = b'{"error":"the server is busy: try again in a moment"}'
        try:
            request.settimeout(1)
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            pass
        self.shutdown_request(request)


def _png_size(data):
    """(width, height) from a PNG's header, read before anything is decoded; (0, 0) if it has none
    (the pipeline then says what is wrong with it)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return 0, 0
    return struct.unpack(">II", data[16:24])


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def make_server(saved, host="127.0.0.1", port=0, data_dir=None):
    """A DrawServer for `saved` bound to host:port (0: a free port), not yet serving.

    Raises UserError (one line) when the address cannot be used.
    """
    try:
        return DrawServer(saved, host, port, data_dir)
    except socket.gaierror as err:
        raise UserError(f"--host {host}: not an address of this machine ({err.strerror}); "
                        "leave --host out for 127.0.0.1") from None
    except PermissionError:
        raise UserError(f"--port {port}: not allowed to listen there (ports below 1024 need root); "
                        "choose another, or leave --port out for a free one") from None
    except OSError as err:
        raise UserError(f"cannot listen on {host}:{port} ({err.strerror}); "
                        "choose another --port, or leave it out for a free one") from None


def _gui_browser_likely():
    """Whether webbrowser.open would reach a window (not a text browser taking over this terminal)."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or
                                                       os.environ.get("WAYLAND_DISPLAY"))


def main(argv=None):
    args = parse_args(argv)
    saved = load_model(args.model)
    with make_server(saved, args.host, args.port, args.data_dir) as server:
        if not server.loopback:
            print(f"warning: listening on {args.host}, not loopback: anyone who can reach this machine "
                  f"on port {server.port} can use the page", file=sys.stderr, flush=True)
        print(f"{args.model}: a {saved.kind} model of {saved.dataset}, drawn at {server.url}  "
              "(Ctrl-C to stop)", flush=True)
        if not args.no_browser:
            if _gui_browser_likely():
                threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
            else:
                print("no graphical browser here: open the URL above in one", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    run(main)
