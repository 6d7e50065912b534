"""Checkerboard artefacts measured in the spectrum: the power of a pattern that repeats every 2 pixels."""

from __future__ import annotations

import numpy as np
import torch


def period2_share(images: torch.Tensor) -> np.ndarray:
    """Per image, the share of its spectral power (each channel less its mean) at the Nyquist row and column of
    its 2-d Fourier transform: the frequencies of patterns that repeat every 2 pixels along a side, as a stride-2
    transposed convolution whose kernel the stride does not divide draws (Odena et al., 2016). uint8 (N, C, H, W)
    with even H and W -> (N,) in [0, 1]; 0 for a flat image."""
    if images.ndim != 4 or images.shape[2] % 2 or images.shape[3] % 2:
        raise ValueError(f"expected images (N, C, H, W) with even sides, got {tuple(images.shape)}")
    x = images.double()
    x = x - x.mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(x).abs().square().sum(1)  # (N, H, W), summed over channels
    h, w = power.shape[1:]
    nyquist = power[:, h // 2, :].sum(1) + power[:, :, w // 2].sum(1) - power[:, h // 2, w // 2]
    total = power.sum((1, 2))
    return torch.where(total > 0, nyquist / total.clamp_min(1e-12), 0.0).numpy()
