"""The small sampling export of a generator: a config JSON beside a safetensors file, no pickles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from ganlab.config import Config, from_dict, to_dict
from ganlab.data.spec import ImageSpec
from ganlab.errors import GanlabError
from ganlab.folders import RunDir
from ganlab.io import atomic_write, atomic_write_json
from ganlab.models import build_generator

EXPORT_FORMAT = 1


def save_generator(path: str | Path, generator: nn.Module, cfg: Config, spec: ImageSpec,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write ``path`` (.safetensors) and ``path`` with .json: config, image spec, format version."""
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    atomic_write(path, lambda p: save_file(state, str(p)))
    meta = {"format": EXPORT_FORMAT, "config": to_dict(cfg),
            "spec": {"channels": spec.channels, "resolution": spec.resolution, "num_classes": spec.num_classes},
            **(extra or {})}
    atomic_write_json(path.with_suffix(".json"), meta)
    return path


def load_generator(path: str | Path,
                   device: str | torch.device = "cpu") -> tuple[nn.Module, Config, ImageSpec, dict[str, Any]]:
    """(generator in eval mode, config, spec, metadata) from an export written by ``save_generator``."""
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


def load_run_generator(run_dir: str | Path, epoch: Optional[int] = None, device: str | torch.device = "cpu"
                       ) -> tuple[nn.Module, Config, ImageSpec, dict[str, Any]]:
    """The exported generator of a run folder (the latest, or the one kept at ``epoch``), as ``load_generator``."""
    return load_generator(RunDir(run_dir).exported_generator(epoch), device)


def load_generator_source(source: str | Path, epoch: Optional[int] = None, device: str | torch.device = "cpu"
                          ) -> tuple[nn.Module, Config, ImageSpec, dict[str, Any]]:
    """A generator from a run folder (latest or ``epoch``'s export) or from an export .safetensors file."""
    source = Path(source)
    return load_run_generator(source, epoch, device) if source.is_dir() else load_generator(source, device)
