"""Fréchet distance between Gaussians fitted to features, in float64, with a bootstrap interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from ganlab.errors import GanlabError

MIN_SAMPLES = 2  # a covariance needs at least two samples


@dataclass
class GaussianStats:
    """Mean (D,) and covariance (D, D) of n feature vectors, float64."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int


def as_float64(x: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    return torch.as_tensor(x).to(device=device, dtype=torch.float64)


def check_count(n: int, what: str) -> None:
    """Refuse too few samples for a covariance, with the fix."""
    if n < MIN_SAMPLES:
        raise GanlabError(f"{what} has {n} sample(s); a covariance needs at least {MIN_SAMPLES} (FID is reliable "
                          f"only with thousands): raise the sample count (--n / eval.n)")


def gaussian_stats(features: np.ndarray | torch.Tensor, device: torch.device | str = "cpu",
                   what: str = "feature set") -> GaussianStats:
    """Fit mean and (unbiased) covariance to features (N, D), in float64 on ``device``."""
    x = as_float64(features, device)
    check_count(x.shape[0], what)
    mu = x.mean(0)
    xc = x - mu
    sigma = xc.T @ xc / (x.shape[0] - 1)
    return GaussianStats(mu.cpu().numpy(), sigma.cpu().numpy(), int(x.shape[0]))


def psd_sqrt(sigma: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric PSD matrix (eigh; negative round-off clipped)."""
    w, v = torch.linalg.eigh(sigma)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def _trace_sqrt_product(root2: torch.Tensor, sigma1: torch.Tensor) -> torch.Tensor:
    """tr(sqrtm(sigma1 @ sigma2)) for symmetric PSD matrices, given root2 = sqrt(sigma2): the sum of the
    square roots of the eigenvalues of root2 sigma1 root2 (same spectrum, symmetric, so eigh: stable)."""
    m = root2 @ sigma1 @ root2
    m = (m + m.T) / 2
    return torch.linalg.eigvalsh(m).clamp(min=0).sqrt().sum()


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     device: torch.device | str = "cpu", root2: Optional[torch.Tensor] = None) -> float:
    """||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 sqrtm(sigma1 sigma2)), computed in float64.

    ``root2``: sqrt(sigma2) when already known (the reference's, reused across bootstrap resamples).
    """
    m1, m2 = as_float64(mu1, device), as_float64(mu2, device)
    s1, s2 = as_float64(sigma1, device), as_float64(sigma2, device)
    if m1.shape != m2.shape or s1.shape != s2.shape or s1.shape != (m1.shape[0], m1.shape[0]):
        raise GanlabError(f"feature statistics disagree in shape: mean {tuple(m1.shape)} / {tuple(m2.shape)}, "
                          f"covariance {tuple(s1.shape)} / {tuple(s2.shape)}; compute both with the same network")
    root2 = psd_sqrt(s2) if root2 is None else root2
    diff = m1 - m2
    value = diff @ diff + torch.trace(s1) + torch.trace(s2) - 2 * _trace_sqrt_product(root2, s1)
    return float(value.clamp(min=0))


def stats_distance(a: GaussianStats, b: GaussianStats, device: torch.device | str = "cpu") -> float:
    """Fréchet distance between two fitted Gaussians."""
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma, device)


def features_path_is_cheaper(n1: int, n2: int, dim: int) -> bool:
    """Whether FID straight from features (an n1 x n2 SVD) costs less than from covariances (dim^3 eigh)."""
    return n1 * n2 * min(n1, n2) < dim ** 3


def frechet_distance_from_features(x1: np.ndarray | torch.Tensor, x2: np.ndarray | torch.Tensor,
                                   device: torch.device | str = "cpu") -> float:
    """FID between two feature sets, exact. With A, B the centred features scaled by 1/sqrt(n - 1)
    (so sigma1 = A'A, sigma2 = B'B), tr sqrtm(sigma1 sigma2) is the nuclear norm of A B': for small
    sets (intra-class FID, few samples) an n1 x n2 SVD instead of two 2048-d eigendecompositions."""
    a, b = as_float64(x1, device), as_float64(x2, device)
    check_count(a.shape[0], "first feature set")
    check_count(b.shape[0], "second feature set")
    if not features_path_is_cheaper(a.shape[0], b.shape[0], a.shape[1]):
        return stats_distance(gaussian_stats(a, device), gaussian_stats(b, device), device)
    mu1, mu2 = a.mean(0), b.mean(0)
    ca, cb = (a - mu1) / (a.shape[0] - 1) ** 0.5, (b - mu2) / (b.shape[0] - 1) ** 0.5
    diff = mu1 - mu2
    value = diff @ diff + (ca * ca).sum() + (cb * cb).sum() - 2 * torch.linalg.svdvals(ca @ cb.T).sum()
    return float(value.clamp(min=0))


def bootstrap_fid(features: np.ndarray, reference: GaussianStats, resamples: int, seed: int = 0,
                  device: torch.device | str = "cpu", level: float = 0.95,
                  reference_features: Optional[np.ndarray] = None) -> dict[str, float]:
    """Spread of FID over resamples (with replacement) of the generated features; no new Inception passes.

    The reference statistics stay fixed, so the interval is the noise of the generated sample.
    Returns the percentile interval at ``level`` and the standard deviation of the resampled FIDs.
    ``reference_features`` (optional) lets small sets take the cheaper exact route from features.
    """
    x = as_float64(features, device)
    n = x.shape[0]
    check_count(n, "generated feature set")
    g = torch.Generator().manual_seed(seed)
    values = []
    if reference_features is not None and features_path_is_cheaper(n, len(reference_features), x.shape[1]):
        for _ in range(resamples):
            idx = torch.randint(n, (n,), generator=g).to(x.device)
            values.append(frechet_distance_from_features(x[idx], reference_features, device))
        resamples = 0
    else:
        root = psd_sqrt(as_float64(reference.sigma, device))
    for _ in range(resamples):
        counts = torch.bincount(torch.randint(n, (n,), generator=g), minlength=n).to(device=device, dtype=torch.float64)
        mu = counts @ x / n
        xc = x - mu
        sigma = (xc * counts[:, None]).T @ xc / (n - 1)
        values.append(frechet_distance(mu, sigma, reference.mu, reference.sigma, device, root))
    arr = np.array(values)
    resamples = len(values)
    lo, hi = np.percentile(arr, [50 * (1 - level), 50 * (1 + level)])
    return {"ci_low": float(lo), "ci_high": float(hi), "ci_level": level, "bootstrap_std": float(arr.std(ddof=1)),
            "bootstrap_resamples": resamples}
