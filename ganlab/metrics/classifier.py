"""The domain classifier: a small CNN per data set and resolution, and what it measures on samples.

``ganlab classifier train mnist`` trains it on the train split and stores it in the cache
(safetensors + JSON with its test accuracy). It gives the accuracy of conditional samples, the class
histogram of samples (mode collapse), a classifier-based Inception Score, and, with a discriminator
callable, a per-class table of D's accuracy on real and fake images.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ganlab.config import AugmentConfig, ClassifierConfig, DataConfig, cache_dir
from ganlab.data import load_split, to_unit_range
from ganlab.data.augment import augment
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.io import atomic_write, atomic_write_json
from ganlab.metrics.inception import check_images
from ganlab.progress import progress_bar

CLASSIFIER_FORMAT = 1


class DomainClassifier(nn.Module):
    """Four conv blocks (conv3x3-BN-ReLU, max-pooled between them), global average pool, linear.
    The receptive field (~38 px) spans a whole 28 px digit before the average.

    (B, C, H, W) in [-1, 1] -> (B, num_classes) logits.
    """

    def __init__(self, channels: int, num_classes: int, width: int = 32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),  # (B, w, H/2, W/2)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),  # (B, 2w, H/4, W/4)
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(), nn.MaxPool2d(2),  # B 4w H/8 W/8
            nn.Conv2d(4 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(),  # (B, 4w, H/8, W/8)
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(4 * w, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [-1, 1] -> (B, 4w) pooled penultimate features (what ``cfd`` compares)."""
        assert x.dim() == 4, x.shape
        return self.features(x).mean((2, 3))


def classifier_path(data_name: str, resolution: int, channels: int) -> Path:
    """Where the classifier of a data set at a size is stored (.safetensors, with .json beside it)."""
    slug = data_name.replace(":", "_").replace("/", "_")
    return cache_dir() / "classifiers" / f"{slug}-{resolution}px-{channels}ch.safetensors"


@dataclass
class Classifier:
    """A trained domain classifier on a device, with its metadata."""

    net: DomainClassifier
    meta: dict[str, Any]
    device: torch.device
    source: str = ""  # the weights file and its modification time: which classifier this is, for in-process caches

    @torch.no_grad()
    def _batched(self, images: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor],
                 batch_size: int = 1000) -> np.ndarray:
        """``fn`` over uint8 (N, C, H, W) images in [-1, 1], batched, as a float64 (N, ...) array."""
        check_images(images)
        want = (self.meta["channels"], self.meta["resolution"], self.meta["resolution"])
        if tuple(images.shape[1:]) != want:
            raise GanlabError(f"images of shape {tuple(images.shape[1:])} given to the {self.meta['data']} classifier "
                              f"trained on {want}; train one at this size: ganlab classifier train "
                              f"{self.meta['data']} --resolution {images.shape[-1]}")
        self.net.eval()
        out = [fn(to_unit_range(images[i:i + batch_size].to(self.device))).double().cpu()
               for i in range(0, images.shape[0], batch_size)]
        return torch.cat(out).numpy()

    def probabilities(self, images: torch.Tensor) -> np.ndarray:
        """uint8 (N, C, H, W) -> (N, num_classes) softmax probabilities, float64."""
        return self._batched(images, lambda x: F.softmax(self.net(x), 1))

    def features(self, images: torch.Tensor) -> np.ndarray:
        """uint8 (N, C, H, W) -> (N, 4w) penultimate features, float64 (the classifier-feature Fréchet distance)."""
        return self._batched(images, self.net.embed)

    def predict(self, images: torch.Tensor) -> np.ndarray:
        """uint8 (N, C, H, W) -> (N,) predicted class indices."""
        return self.probabilities(images).argmax(1)

    def labels(self, images: torch.Tensor) -> torch.Tensor:
        """``predict`` as an int64 tensor: the ``classify(images) -> labels`` function explore collapse takes."""
        return torch.from_numpy(self.predict(images)).long()


def _accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> float:
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, images.shape[0], 1000):
            logits = net(to_unit_range(images[i:i + 1000].to(device)))
            correct += int((logits.argmax(1).cpu() == labels[i:i + 1000]).sum())
    return correct / max(1, images.shape[0])


def train_classifier(data: DataConfig, cfg: ClassifierConfig = ClassifierConfig(), device: str = "auto",
                     progress: bool = True, reuse: bool = False) -> dict[str, Any]:
    """Train the domain classifier on the train split, measure it on the test split, store it in the cache.

    Returns its metadata (path, test_accuracy, train_time_s, ...). ``reuse``: keep a classifier already stored
    for this data set and size instead of training a new one.
    """
    dev = resolve_device(device)
    train, test = load_split(data, "train"), load_split(data, "test")
    assert train is not None
    if train.num_classes < 2:
        raise GanlabError(f"data set '{data.name}' has {train.num_classes} class(es); a domain classifier needs labels")
    _, c, h, _ = train.images.shape
    if reuse and classifier_path(data.name, h, c).with_suffix(".json").is_file():
        return load_classifier(data.name, h, c).meta | {"reused": True}
    torch.manual_seed(cfg.seed)
    net = DomainClassifier(c, train.num_classes, cfg.width).to(dev)
    steps_per_epoch = -(-len(train) // cfg.batch_size)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.epochs * steps_per_epoch)
    images, labels = train.images.to(dev), train.labels.to(dev)
    g = torch.Generator().manual_seed(cfg.seed)
    g_aug = torch.Generator(device=dev).manual_seed(cfg.seed + 1)
    shifts = AugmentConfig(crop_padding=min(cfg.shift_pixels, h // 8))
    t0 = time.perf_counter()
    bar = progress_bar(cfg.epochs * steps_per_epoch, enabled=progress)
    for _ in range(cfg.epochs):
        net.train()
        perm = torch.randperm(len(train), generator=g).to(dev)
        for i in range(steps_per_epoch):
            idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            x = to_unit_range(images[idx])
            x = augment(x, shifts, g_aug) if shifts.crop_padding else x
            loss = F.cross_entropy(net(x), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
    bar.close()
    train_time = time.perf_counter() - t0
    eval_set = test if test is not None and len(test) else train
    accuracy = _accuracy(net, eval_set.images, eval_set.labels, dev)
    path = classifier_path(data.name, h, c)
    meta = {"format": CLASSIFIER_FORMAT, "data": data.name, "resolution": h, "channels": c,
            "num_classes": train.num_classes, "class_names": list(train.class_names), "config": asdict(cfg),
            "test_accuracy": accuracy, "accuracy_split": "test" if eval_set is test else "train",
            "train_time_s": train_time, "device": str(dev), "path": str(path)}
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    atomic_write(path, lambda p: save_file(state, str(p)))
    atomic_write_json(path.with_suffix(".json"), meta)
    return meta


def load_classifier(data_name: str, resolution: int, channels: int, device: str | torch.device = "cpu") -> Classifier:
    """The stored classifier of a data set at a size; a clear error with the command that makes it."""
    path = classifier_path(data_name, resolution, channels)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise GanlabError(f"no domain classifier for '{data_name}' at {resolution}px ({path} absent); "
                          f"train it: ganlab classifier train {data_name} --resolution {resolution}")
    meta = json.loads(meta_path.read_text())
    dev = resolve_device(device)
    net = DomainClassifier(meta["channels"], meta["num_classes"], meta["config"]["width"])
    net.load_state_dict(load_file(str(path)))
    return Classifier(net.to(dev).eval(), meta, dev, f"{path}@{path.stat().st_mtime_ns}")


# ----- what it measures -----------------------------------------------------------------------------------
def class_histogram(predicted: np.ndarray, num_classes: int) -> list[int]:
    """Counts of each predicted class (mode collapse shows as a few tall bars)."""
    return np.bincount(np.asarray(predicted), minlength=num_classes)[:num_classes].tolist()


def classifier_indices(meta: dict[str, Any], class_names: Sequence[str]) -> torch.Tensor:
    """The classifier's label of each of a run's classes, found by name, (k,) int64: a run that keeps some classes
    (data.classes) relabels them 0..k-1, the classifier knows the source's labels."""
    known = list(meta["class_names"])
    missing = [n for n in class_names if n not in known]
    if missing:
        raise GanlabError(f"the domain classifier of '{meta['data']}' does not know the class(es) "
                          f"{', '.join(missing)}; retrain it: ganlab classifier train {meta['data']}")
    return torch.tensor([known.index(n) for n in class_names], dtype=torch.long)


def conditional_accuracy(predicted: np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """Share of samples the classifier assigns to the class they were conditioned on."""
    return float((np.asarray(predicted) == np.asarray(labels)).mean())


def per_class_accuracy(predicted: np.ndarray, labels: torch.Tensor | np.ndarray, classes: torch.Tensor | np.ndarray,
                       num_classes: int) -> list[Optional[float]]:
    """Conditional accuracy per class c < num_classes of ``classes`` (the run's labels; ``labels`` are the same in
    the classifier's): the share of class c's samples classified as asked; None where c has no samples."""
    hit, classes = np.asarray(predicted) == np.asarray(labels), np.asarray(classes)
    return [float(hit[classes == c].mean()) if (classes == c).any() else None for c in range(num_classes)]


@torch.no_grad()
def per_class_d_accuracy(d_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                         real_images: torch.Tensor, real_labels: torch.Tensor,
                         fake_images: torch.Tensor, fake_labels: torch.Tensor,
                         num_classes: int, batch_size: int = 500,
                         device: Optional[torch.device | str] = None) -> list[dict[str, float]]:
    """Per class: the share of real images D calls real (logit > 0) and of fake images it calls fake.

    ``d_fn(images in [-1, 1] float (B, C, H, W), labels (B,)) -> logits (B,)``; images come in as uint8. Images
    go through D in batches of mixed classes (a fixed shuffle), real and fake apart, as in training: a D with
    BatchNorm on batch statistics judges a batch of one class differently.
    """
    def correct(images: torch.Tensor, labels: torch.Tensor, real: bool) -> torch.Tensor:
        check_images(images, "real images" if real else "fake images")
        order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(0))
        out = torch.empty(images.shape[0], dtype=torch.bool)
        for i in range(0, images.shape[0], batch_size):
            idx = order[i:i + batch_size]
            x, y = to_unit_range(images[idx]), labels[idx]
            if device is not None:
                x, y = x.to(device), y.to(device)
            logits = d_fn(x, y).float().reshape(-1).cpu()
            out[idx] = logits > 0 if real else logits < 0
        return out

    ok_real, ok_fake = correct(real_images, real_labels, True), correct(fake_images, fake_labels, False)
    rows = []
    for c in range(num_classes):
        r, f = real_labels.cpu() == c, fake_labels.cpu() == c
        rows.append({"class": c, "real_acc": float(ok_real[r].float().mean()) if r.any() else float("nan"),
                     "fake_acc": float(ok_fake[f].float().mean()) if f.any() else float("nan"),
                     "n_real": int(r.sum()), "n_fake": int(f.sum())})
    return rows
