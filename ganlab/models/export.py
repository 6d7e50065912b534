"""The small sampling export of a generator: a config JSON beside a safetensors file, no pickles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ganlab.config import Config, from_dict, to_dict
from ganlab.data.spec import ImageSpec
from ganlab.errors import GanlabError
from ganlab.io import atomic_write, atomic_write_json

EXPORT_FORMAT = 1


def save_generator(path: str | Path, generator: nn.Module, cfg: Config, spec: ImageSpec,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write ``path`` (.safetensors) and ``path`` with .json: config, image spec, format version."""
    from safetensors.torch import save_file

    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    atomic_write(path, lambda p: save_file(state, str(p)))
    meta = {"format": EXPORT_FORMAT, "config": to_dict(cfg),
            "spec": {"channels": spec.channels, "resolution": spec.resolution, "num_classes": spec.num_classes},
            **(extra or {})}
    atomic_write_json(path.with_suffix(".json"), meta)
    return path


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, Config, ImageSpec, dict[str, Any]]:
    """(generator in eval mode, config, spec, metadata) from an export written by ``save_generator``."""
    from safetensors.torch import load_file

    from ganlab.models import build_generator

    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise GanlabError(f"no generator export at {path} (needs {path.name} and {meta_path.name}); "
                          f"train a run first or pass its run directory")
    meta = json.loads(meta_path.read_text())
    cfg = from_dict(meta["config"])
    spec = ImageSpec(**meta["spec"])
    g = build_generator(cfg.model, spec)
    g.load_state_dict(load_file(str(path)))
    return g.to(device).eval(), cfg, spec, meta


def export_path(run_dir: str | Path, epoch: int | None = None) -> Path:
    """Where a run keeps its latest generator export, or the one of a given epoch."""
    name = "generator.safetensors" if epoch is None else f"generator-e{epoch:04d}.safetensors"
    return Path(run_dir) / "export" / name


def load_run_generator(source: str | Path, epoch: int | None = None, device: str | torch.device = "cpu"):
    """``load_generator`` from a run directory (latest or given epoch) or an export file."""
    source = Path(source)
    if source.is_dir():
        path = export_path(source, epoch)
        if epoch is not None and not path.is_file():
            kept = sorted(p.stem.split("-e")[-1] for p in (source / "export").glob("generator-e*.safetensors"))
            raise GanlabError(f"run {source} kept no export of epoch {epoch}; kept epochs: {', '.join(kept) or 'none'}")
        return load_generator(path, device)
    return load_generator(source, device)
