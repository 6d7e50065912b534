"""Sample grids saved as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganlab.io import atomic_write


def image_grid(images: torch.Tensor, columns: int, pad: int = 2) -> np.ndarray:
    """uint8 (N, C, H, W) -> one uint8 (rows*H, columns*W[, 3]) array, row-major, white padding."""
    n, c, h, w = images.shape
    rows = max(1, -(-n // columns))
    grid = np.full((c, rows * (h + pad) + pad, columns * (w + pad) + pad), 255, dtype=np.uint8)
    arr = images.cpu().numpy()
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, top:top + h, left:left + w] = arr[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_grid(path: str | Path, images: torch.Tensor, columns: int, scale: int = 1) -> Path:
    """Write uint8 images (N, C, H, W) as a PNG grid (upscaled ``scale`` times, nearest)."""
    from PIL import Image

    grid = image_grid(images, columns)
    im = Image.fromarray(grid)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    return atomic_write(path, lambda p: im.save(p, format="PNG"))
