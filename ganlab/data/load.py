"""One data path: name -> source -> uint8 tensor cache -> ImageSet at the configured size."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F

from ganlab.config import DataConfig, cache_dir, default_data_root
from ganlab.data.select import hold_out, select
from ganlab.data.sources import (
    ImageSet,
    load_cifar10_split,
    load_digits_split,
    load_folder_split,
    load_torchvision_split,
    missing_split,
)
from ganlab.data.spec import ImageSpec
from ganlab.errors import GanlabError, warn
from ganlab.io import atomic_torch_save

KNOWN_SOURCES = ("digits", "mnist", "fashion-mnist", "cifar10", "folder:PATH")
CACHE_VERSION = 1


@dataclass
class DataSplits:
    """The training split and, where the source has one, the held-out split."""

    train: ImageSet
    test: Optional[ImageSet]
    name: str

    @property
    def spec(self) -> ImageSpec:
        _, c, h, _ = self.train.images.shape
        return ImageSpec(channels=c, resolution=h, num_classes=self.train.num_classes)


def folder_path(name: str, root: Path) -> Path:
    """The folder or zip of ``folder:PATH``: PATH as given (absolute, ~, or relative to the current directory),
    else relative to the data root (so a preset can say folder:afhq for $GANLAB_DATA/afhq)."""
    given = Path(name[len("folder:"):]).expanduser()
    if given.exists() or given.is_absolute():
        return given
    if (root / given).exists():
        return root / given
    raise GanlabError(f"image folder {given} does not exist in the current directory nor in the data root {root}; "
                      f"pass folder:PATH with an existing folder or .zip, or point --data-root at its parent")


def _source_identity(cfg: DataConfig, root: Path) -> str:
    if cfg.name.startswith("folder:"):
        path = folder_path(cfg.name, root).resolve()
        stat = path.stat() if path.exists() else None
        return f"{path}|{stat.st_size if stat else 0}|{stat.st_mtime_ns if stat else 0}"
    return f"{cfg.name}|{root.resolve()}"


def _decode(cfg: DataConfig, root: Path, split: str) -> ImageSet:
    name = cfg.name
    if name == "digits":
        return load_digits_split(split)
    if name in ("mnist", "fashion-mnist"):
        return load_torchvision_split(name, root, split, cfg.download)
    if name == "cifar10":
        return load_cifar10_split(root, split, cfg.download, cfg.resolution, cfg.channels)
    if name.startswith("folder:"):
        return load_folder_split(folder_path(name, root), split, cfg.resolution, cfg.channels)
    raise GanlabError(f"unknown data set '{name}'; use one of {', '.join(KNOWN_SOURCES)}")


def _cache_path(cfg: DataConfig, root: Path, split: str) -> Path:
    key = f"v{CACHE_VERSION}|{_source_identity(cfg, root)}|{split}|{cfg.resolution}|{cfg.channels}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    slug = cfg.name.split(":")[0]
    return cache_dir() / "data" / f"{slug}-{split}-{digest}.pt"


def _load_cached(path: Path) -> Optional[ImageSet]:
    if not path.is_file():
        return None
    try:
        blob = torch.load(path, weights_only=True)
        return ImageSet(blob["images"], blob["labels"], list(blob["class_names"]))
    except Exception:
        warn(f"data cache {path} is unreadable; decoding the source again")
        return None


def to_size(images: torch.Tensor, resolution: int, channels: int) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) images to ``resolution`` (antialiased) and convert to ``channels``."""
    if resolution and images.shape[-1] != resolution:
        x = F.interpolate(images.float(), size=(resolution, resolution), mode="bilinear",
                          antialias=True, align_corners=False)
        images = x.round().clamp(0, 255).to(torch.uint8)
    if channels == 3 and images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1).contiguous()
    elif channels == 1 and images.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        images = (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    return images


def load_split(cfg: DataConfig, split: str) -> Optional[ImageSet]:
    """One split at the configured size, of the configured classes (``ganlab.data.select``); None if there is no
    such split. With ``data.test_fraction``, 'train' and 'test' are the two parts of the source's only split."""
    if cfg.test_fraction:
        if _decoded_split(cfg, "test") is not None:
            raise GanlabError(f"data.test_fraction={cfg.test_fraction} holds out a test split, but '{cfg.name}' has "
                              f"its own; set data.test_fraction=0")
        pool = _decoded_split(cfg, "train")
        assert pool is not None
        train, test = hold_out(select(pool, cfg, cap=True), cfg.test_fraction, cfg.split_seed, cfg.name)
        return train if split == "train" else test
    data = _decoded_split(cfg, split)
    return None if data is None else select(data, cfg, cap=split == "train")


def _decoded_split(cfg: DataConfig, split: str) -> Optional[ImageSet]:
    """The source's whole split at the configured size, decoded once and cached; None if it has no such split.
    (The cache holds the whole source: choosing classes, capping and holding out are indexing, done on load.)"""
    root = default_data_root(cfg.root)
    path = _cache_path(cfg, root, split)
    data = _load_cached(path)
    if data is None:
        try:
            data = _decode(cfg, root, split)
        except GanlabError as e:
            if missing_split(e):
                return None
            raise
        data.images = to_size(data.images, cfg.resolution, cfg.channels)
        atomic_torch_save(path, {"images": data.images, "labels": data.labels, "class_names": data.class_names})
    return data


def load_data(cfg: DataConfig) -> DataSplits:
    """The training split (its first ``limit`` images when set) and the held-out split if any."""
    train = load_split(cfg, "train")
    assert train is not None
    if cfg.limit:
        train = ImageSet(train.images[: cfg.limit], train.labels[: cfg.limit], train.class_names)
    test = load_split(cfg, "test")
    return DataSplits(train=train, test=test, name=cfg.name)
