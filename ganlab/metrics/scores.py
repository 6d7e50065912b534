"""Inception Score, Kernel Inception Distance and precision/recall, from probabilities or features."""

from __future__ import annotations

import numpy as np
import torch

from ganlab.errors import GanlabError
from ganlab.metrics.frechet import as_float64


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Mean and std over ``splits`` equal parts of exp(E_x KL(p(y|x) || p(y))) (Salimans et al.).

    ``probs`` is (N, K) class probabilities: TF-Inception's softmax, or a domain classifier's.
    """
    p = np.asarray(probs, dtype=np.float64)
    n = p.shape[0]
    if n < splits:
        raise GanlabError(f"Inception Score over {splits} splits needs at least {splits} samples, got {n}; raise --n")
    p = np.clip(p, 1e-12, 1.0)
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def kernel_inception_distance(fake: np.ndarray, real: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0, device: torch.device | str = "cpu") -> tuple[float, float]:
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y/d + 1)^3, mean and std over random subsets
    (Bińkowski et al.; subset protocol of StyleGAN2-ADA)."""
    x_all, y_all = as_float64(fake, device), as_float64(real, device)
    m = min(x_all.shape[0], y_all.shape[0], subset_size)
    if m < 2:
        raise GanlabError(f"KID needs at least 2 samples on each side, got {x_all.shape[0]} and {y_all.shape[0]}")
    d = x_all.shape[1]
    g = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        x = x_all[torch.randperm(x_all.shape[0], generator=g)[:m].to(x_all.device)]
        y = y_all[torch.randperm(y_all.shape[0], generator=g)[:m].to(y_all.device)]
        kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
        values.append(float(within - 2 * kxy.sum() / (m * m)))
    arr = np.array(values)
    return float(arr.mean()), float(arr.std())


def _kth_neighbour_radii(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row."""
    out = [torch.cdist(x[i:i + chunk], x).kthvalue(k + 1, dim=1).values for i in range(0, x.shape[0], chunk)]
    return torch.cat(out)


def _coverage(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int) -> float:
    """Fraction of points inside at least one ball (centre, radius)."""
    inside = [(torch.cdist(points[i:i + chunk], centres) <= radii[None]).any(1)
              for i in range(0, points.shape[0], chunk)]
    return float(torch.cat(inside).double().mean())


def precision_recall(fake: np.ndarray, real: np.ndarray, k: int = 3, chunk: int = 1000,
                     device: torch.device | str = "cpu") -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al.): manifolds as unions of k-NN balls.

    Precision: share of fake samples inside the real manifold; recall: share of real samples inside the
    fake manifold. Computed here on Inception pool features (StyleGAN2-ADA uses VGG16 features).
    """
    x, y = as_float64(fake, device).float(), as_float64(real, device).float()
    if min(x.shape[0], y.shape[0]) <= k:
        raise GanlabError(f"precision/recall with k={k} needs more than {k} samples on each side, "
                          f"got {x.shape[0]} fake and {y.shape[0]} real; raise --n")
    precision = _coverage(x, y, _kth_neighbour_radii(y, k, chunk), chunk)
    recall = _coverage(y, x, _kth_neighbour_radii(x, k, chunk), chunk)
    return precision, recall
