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
