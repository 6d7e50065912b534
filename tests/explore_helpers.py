"""Reading explore outputs back (cut a grid PNG into its cells), and an explorer on an untrained generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def read_cells(png: Path, grid: dict) -> torch.Tensor:
    """uint8 (count, C, H, W) cells of a grid PNG written by save_grid, undoing its upscaling."""
    array = np.asarray(Image.open(png))
    s, h, w, pad = grid["scale"], grid["height"], grid["width"], grid["pad"]
    rows, cols = grid["rows"] * (h + pad) + pad, grid["columns"] * (w + pad) + pad  # the grid, below the title
    array = array[grid["top"]:grid["top"] + rows * s, grid["left"]:grid["left"] + cols * s]  # and right of the labels
    array = array[::s, ::s]
    if array.ndim == 2:
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    assert array.shape[1] == grid["rows"] * (h + pad) + pad and array.shape[2] == grid["columns"] * (w + pad) + pad
    cells = []
    for i in range(grid["count"]):
        r, c = divmod(i, grid["columns"])
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        cells.append(array[:, top:top + h, left:left + w])
    return torch.from_numpy(np.stack(cells))


def figure_cells(json_path: Path, figure: dict) -> torch.Tensor:
    """The cells of one figure described in an exploration JSON, checked against its cell means."""
    cells = read_cells(json_path.parent / figure["png"], figure["grid"])
    means = cells.float().mean(dim=(1, 2, 3))
    assert torch.allclose(means, torch.tensor(figure["cell_means"]), atol=1e-3), "JSON cell means differ from the PNG"
    return cells


def load(json_path: Path) -> dict:
    return json.loads(Path(json_path).read_text())


def untrained_explorer(tmp_path: Path, overrides: list[str]):
    """An Explorer on a freshly built (untrained) generator of 8x8 digits: shapes and refusals need no training."""
    from ganlab.config import load_config
    from ganlab.data.spec import ImageSpec
    from ganlab.explore.common import Explorer
    from ganlab.models import build_generator

    cfg = load_config(None, ["model.family=mlp", "model.g_width=16", *overrides])
    spec = ImageSpec(channels=1, resolution=8, num_classes=10)
    return Explorer(build_generator(cfg.model, spec).eval(), cfg, spec, tmp_path, tmp_path, torch.device("cpu"))
