"""``ganlab serve``: a small local web page to explore a generator live (stdlib http.server, no extra
dependencies). The page (static/serve.html) asks ``/generate`` for one PNG per change:

- ``/info``: the generator's z_dim, classes and image size (JSON);
- ``/latent?seed=N``: the latent of a seed (JSON list), as ``ganlab sample --seeds N`` draws it;
- ``/generate?class=C&z=v1,v2,..|seed=N[&seed_b=M&class_b=D&t=0.5&method=linear|spherical]
  [&eps=E&label_eps=F&noise_seed=S][&size=256]``: the image (PNG) of that latent and class, moved
  a fraction t towards the second sample, plus noise of scale eps on z and label_eps on the label code.
"""

from __future__ import annotations

import io
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlparse

import torch
from PIL import Image

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, gaussian, load_explorer
from ganlab.explore.interpolate import INTERPOLATORS, lerp

MAX_SLIDERS = 16  # latent dimensions shown as sliders; the others keep their drawn values
MAX_SIZE = 1024  # largest image side served, in pixels


class BadRequest(ValueError):
    """A query the page should not have sent; answered with 400 and the message."""


def _param(query: dict[str, list[str]], name: str, kind: type, default=None):
    if name not in query or query[name][0] == "":
        return default
    try:
        return kind(query[name][0])
    except ValueError:
        raise BadRequest(f"{name}={query[name][0]!r} is not a {kind.__name__}") from None


class LiveGenerator:
    """Turns a /generate query into an image; one request at a time uses the network."""

    def __init__(self, ex: Explorer):
        self.ex = ex
        self.lock = threading.Lock()

    def info(self) -> dict:
        ex = self.ex
        return {"run": ex.run_dir.resolve().name, "z_dim": ex.z_dim, "num_classes": ex.num_classes,
                "conditional": ex.conditional, "label_dim": int(ex.generator.label.dim),
                "resolution": ex.spec.resolution, "channels": ex.spec.channels,
                "sliders": min(ex.z_dim, MAX_SLIDERS)}

    def latent(self, seed: int) -> list[float]:
        return self.ex.latents([seed]).cpu()[0].tolist()

    def _class(self, value: int) -> int:
        if not 0 <= value < self.ex.num_classes:
            raise BadRequest(f"class {value} out of range 0..{self.ex.num_classes - 1}")
        return value

    def latent_and_code(self, query: dict[str, list[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(z (1, z_dim), code (1, label_dim)) described by a query."""
        ex = self.ex
        text = _param(query, "z", str)
        if text is not None:
            try:
                z = torch.tensor([[float(v) for v in text.split(",")]]) if ex.z_dim else torch.zeros(1, 0)
            except ValueError:
                raise BadRequest("z must be comma-separated numbers") from None
            if z.shape[1] != ex.z_dim:
                raise BadRequest(f"z has {z.shape[1]} values; this generator takes {ex.z_dim}")
        else:
            z = ex.latents([_param(query, "seed", int, 0)]).cpu()
        code = ex.codes([self._class(_param(query, "class", int, 0))]).cpu()
        seed_b, class_b = _param(query, "seed_b", int), _param(query, "class_b", int)
        t = _param(query, "t", float, 0.0)
        if (seed_b is not None or class_b is not None) and t != 0.0:
            method = _param(query, "method", str, "linear")
            if method not in INTERPOLATORS:
                raise BadRequest(f"method {method!r} is not one of {', '.join(INTERPOLATORS)}")
            z_b = ex.latents([seed_b]).cpu() if seed_b is not None else z
            code_b = ex.codes([self._class(class_b)]).cpu() if class_b is not None else code
            tt = torch.tensor([t])
            z = INTERPOLATORS[method](z[0], z_b[0], tt)
            code = lerp(code[0], code_b[0], tt)
        noise_seed = _param(query, "noise_seed", int, 1)
        eps, label_eps = _param(query, "eps", float, 0.0), _param(query, "label_eps", float, 0.0)
        z = z + eps * gaussian(tuple(z.shape), noise_seed)
        code = code + label_eps * gaussian(tuple(code.shape), noise_seed + 1)
        return z, code

    def png(self, query: dict[str, list[str]]) -> bytes:
        """The PNG bytes of the image a query describes, upscaled (nearest) to ``size`` pixels."""
        z, code = self.latent_and_code(query)
        size = _param(query, "size", int, 256)
        if not 8 <= size <= MAX_SIZE:
            raise BadRequest(f"size must be in 8..{MAX_SIZE}")
        with self.lock:
            image = self.ex.render(z, code)[0]  # uint8 (C, H, W)
        array = image[0].numpy() if image.shape[0] == 1 else image.permute(1, 2, 0).numpy()
        buffer = io.BytesIO()
        Image.fromarray(array).resize((size, size), Image.NEAREST).save(buffer, format="PNG")
        return buffer.getvalue()


def page_html() -> bytes:
    """The one page of the explorer."""
    return resources.files("ganlab.explore").joinpath("static/serve.html").read_bytes()


def make_handler(live: LiveGenerator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            query = parse_qs(url.query)
            try:
                if url.path == "/":
                    self._send(HTTPStatus.OK, "text/html; charset=utf-8", page_html())
                elif url.path == "/info":
                    self._send(HTTPStatus.OK, "application/json", json.dumps(live.info()).encode())
                elif url.path == "/latent":
                    self._send(HTTPStatus.OK, "application/json",
                               json.dumps(live.latent(_param(query, "seed", int, 0))).encode())
                elif url.path == "/generate":
                    self._send(HTTPStatus.OK, "image/png", live.png(query))
                else:
                    self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")
            except BadRequest as e:
                self._send(HTTPStatus.BAD_REQUEST, "text/plain", str(e).encode())

        def _send(self, status: HTTPStatus, mime: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # quiet: one line per request is noise here
            pass

    return Handler


def make_server(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, epoch: int | None = None,
                device: str = "auto") -> ThreadingHTTPServer:
    """An HTTP server for a run's generator (port 0 = any free port; see ``server.server_address``)."""
    live = LiveGenerator(load_explorer(run_dir, epoch, device))
    try:
        return ThreadingHTTPServer((host, port), make_handler(live))
    except OSError as e:
        raise GanlabError(f"cannot listen on {host}:{port} ({e.strerror}); pass another --port") from None


def serve(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, epoch: int | None = None,
          device: str = "auto", announce: Callable[[str], None] = print) -> None:
    """Serve the explorer page until interrupted (Ctrl-C)."""
    server = make_server(run_dir, host, port, epoch, device)
    announce(f"serving {run_dir} at http://{host}:{server.server_address[1]}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
