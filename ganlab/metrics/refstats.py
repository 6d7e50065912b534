"""Reference images, their Inception features and Gaussian statistics, computed once and cached on disk.

Cache key: data set, split, resolution, channels, the images chosen (data.classes, per_class, test_fraction),
reference size, class, feature protocol version and the network file's sha1. A cache file carries a checksum of
its arrays; an unreadable or corrupted one is reported, deleted and recomputed. A reference too large to keep
its features is streamed, and its running sums are saved now and then, so an interrupted pass (hours on a
CPU) resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from ganlab.config import DataConfig, cache_dir
from ganlab.data import load_split
from ganlab.data.select import selection_key
from ganlab.errors import GanlabError, warn
from ganlab.io import atomic_write
from ganlab.metrics.frechet import GaussianStats, check_count, gaussian_stats
from ganlab.metrics.inception import FEATURE_DIM, PROTOCOL_VERSION, InceptionNet, file_sha1
from ganlab.progress import Progress

FEATURES_CACHED_UP_TO = 20000  # references this small keep their features on disk (20k x 2048 float32 = 164 MB)
PARTIAL_SAVE_EVERY_S = 120.0  # how often a streamed reference pass saves its running sums (32 MB)
CHUNK_BATCHES = 10  # network batches per chunk of a streamed pass (its running sums are saved between chunks)


@dataclass(frozen=True)
class Reference:
    """Which real images: the first ``n`` of a split (0 = all), optionally of one class only."""

    data: DataConfig
    split: str  # train | test
    n: int = 0
    label: Optional[int] = None

    def images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, C, H, W) images and their labels (N,)."""
        data = load_split(self.data, self.split)
        if data is None:
            other = "train" if self.split == "test" else "test"
            raise GanlabError(f"data set '{self.data.name}' has no {self.split} split; use the {other} split "
                              f"(--ref {other} / eval.ref={other})")
        images, labels = data.images, data.labels
        if self.label is not None:
            keep = labels == self.label
            images, labels = images[keep], labels[keep]
        if self.n:
            if self.n > images.shape[0]:
                raise GanlabError(f"asked for {self.n} reference images but the {self.split} split of "
                                  f"'{self.data.name}' has {images.shape[0]}; lower the reference size (eval.ref_n)")
            images, labels = images[:self.n], labels[:self.n]
        return images, labels

    def size(self) -> int:
        """Number of images this reference holds."""
        return self.n or len(load_split(self.data, self.split) or [])


def _cache_path(kind: str, ref: Reference, net: InceptionNet) -> Path:
    d = ref.data
    key = {"kind": kind, "data": d.name, "split": ref.split, "resolution": d.resolution, "channels": d.channels,
           "n": ref.n, "label": ref.label, "protocol": PROTOCOL_VERSION, "network": file_sha1(net.path)}
    if selection_key(d):  # only when set, so that the caches of whole sources keep their keys
        key["selection"] = selection_key(d)
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    slug = d.name.split(":")[0]
    size = f"n{ref.n}" if ref.n else "all"
    cls = f"-c{ref.label}" if ref.label is not None else ""
    name = f"{slug}-{ref.split}-r{d.resolution}-p{PROTOCOL_VERSION}-{size}{cls}-{kind}-{digest}.npz"
    return cache_dir() / "refstats" / name


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    payload = {**arrays, "checksum": np.array(_checksum(arrays))}
    atomic_write(path, lambda p: np.savez(p.open("wb"), **payload))


def _load(path: Path) -> Optional[dict[str, np.ndarray]]:
    """The arrays of a cache file, or None (with a warning, the file removed) when unreadable or corrupted."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as blob:
            arrays = {k: blob[k] for k in blob.files if k != "checksum"}
            stored = str(blob["checksum"])
        if _checksum(arrays) == stored:
            return arrays
        why = "checksum mismatch"
    except Exception as e:  # truncated zip, bad header, missing member: all mean "recompute"
        why = type(e).__name__
    warn(f"reference cache {path} is corrupted ({why}); recomputing it")
    path.unlink(missing_ok=True)
    return None


def cached(path: Path, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays stored at ``path``, computed and stored first when absent or corrupted."""
    arrays = _load(path)
    if arrays is None:
        arrays = compute()
        _save(path, arrays)
    return arrays


def _label(ref: Reference) -> str:
    cls = f" class {ref.label}" if ref.label is not None else ""
    return f"{ref.data.name} {ref.split}{cls} reference"


def reference_features(net: InceptionNet, ref: Reference) -> tuple[np.ndarray, np.ndarray]:
    """Inception features (N, 2048) float32 and labels (N,) of the reference images (cached)."""
    def compute() -> dict[str, np.ndarray]:
        images, labels = ref.images()
        progress = Progress(_label(ref), images.shape[0])
        return {"features": net.features(images, progress), "labels": labels.numpy()}

    arrays = cached(_cache_path("features", ref, net), compute)
    return arrays["features"], arrays["labels"]


def _streamed_stats(net: InceptionNet, ref: Reference, partial_path: Path,
                    save_every_s: Optional[float] = None) -> GaussianStats:
    """Mean and covariance accumulated chunk by chunk in float64 (no N x 2048 array kept). The running sums
    are saved to ``partial_path`` every ``save_every_s`` seconds (default ``PARTIAL_SAVE_EVERY_S``), and an
    interrupted pass resumes from them."""
    save_every_s = PARTIAL_SAVE_EVERY_S if save_every_s is None else save_every_s
    images, _ = ref.images()
    n = images.shape[0]
    check_count(n, f"reference {ref.split} split")
    state = _load(partial_path)
    if state is None or int(state["n"]) != n:
        state = {"n": np.array(n), "done": np.array(0), "total": np.zeros(FEATURE_DIM),
                 "outer": np.zeros((FEATURE_DIM, FEATURE_DIM))}
    done = int(state["done"])
    total = torch.from_numpy(state["total"]).to(net.device)  # (2048,) float64
    outer = torch.from_numpy(state["outer"]).to(net.device)  # (2048, 2048) float64
    progress = Progress(_label(ref) + (f" (resumed at {done:,})" if done else ""), n, done)
    last_save = time.perf_counter()
    chunk = CHUNK_BATCHES * net.batch_size
    while done < n:
        x = torch.from_numpy(net.features(images[done:done + chunk], progress)).to(net.device, torch.float64)
        total += x.sum(0)
        outer += x.T @ x
        done += x.shape[0]
        if done < n and time.perf_counter() - last_save >= save_every_s:
            _save(partial_path, {"n": np.array(n), "done": np.array(done), "total": total.cpu().numpy(),
                                 "outer": outer.cpu().numpy()})
            last_save = time.perf_counter()
    mu = total / n
    sigma = (outer - n * torch.outer(mu, mu)) / (n - 1)
    return GaussianStats(mu.cpu().numpy(), sigma.cpu().numpy(), n)


def reference_stats(net: InceptionNet, ref: Reference) -> GaussianStats:
    """Gaussian statistics of the reference (cached). A reference of up to ``FEATURES_CACHED_UP_TO`` images
    keeps its features too (for KID, precision/recall, intra-class FID); a larger one is streamed, resumably."""
    features_path = _cache_path("features", ref, net)
    partial_path = _cache_path("partial", ref, net)

    def compute() -> dict[str, np.ndarray]:
        if features_path.is_file() or ref.size() <= FEATURES_CACHED_UP_TO:
            feats, _ = reference_features(net, ref)
            s = gaussian_stats(feats, net.device, f"reference {ref.split} split")
        else:
            s = _streamed_stats(net, ref, partial_path)
        return {"mu": s.mu, "sigma": s.sigma, "n": np.array(s.n)}

    arrays = cached(_cache_path("stats", ref, net), compute)
    partial_path.unlink(missing_ok=True)  # only once the statistics themselves are on disk
    return GaussianStats(arrays["mu"], arrays["sigma"], int(arrays["n"]))


def features_for_comparison(net: InceptionNet, ref: Reference, n: int) -> tuple[np.ndarray, Reference]:
    """Features of up to ``n`` reference images for sample-to-sample metrics (KID, precision/recall):
    the first n rows of the cached reference features, or, for a large reference, of its first n images."""
    if ref.size() > FEATURES_CACHED_UP_TO and n < ref.size():
        ref = Reference(ref.data, ref.split, n, ref.label)
    feats, _ = reference_features(net, ref)
    return feats[:n], Reference(ref.data, ref.split, min(n, feats.shape[0]), ref.label)


def describe(ref: Reference) -> dict:
    """The reference's identity for an eval record."""
    return {"ref_data": ref.data.name, "ref_split": ref.split, "ref_n": ref.size(), "ref_label": ref.label,
            "resolution": ref.data.resolution, "protocol": PROTOCOL_VERSION}

