"""The Fréchet distance against closed forms, its bootstrap interval, and its refusals."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from ganlab.errors import GanlabError
from ganlab.metrics.frechet import bootstrap_fid, frechet_distance, frechet_distance_from_features, gaussian_stats


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_diagonal_gaussians_match_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()  # 5 + (1 + 1 + 4) = 11
    assert expected == pytest.approx(11.0)
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, abs=1e-10)


def test_scaled_covariance_matches_the_closed_form():
    rng = np.random.default_rng(0)
    s = _random_spd(rng, 64)
    mu1, mu2 = rng.normal(size=64), rng.normal(size=64)
    c = 2.5  # sigma2 = c^2 sigma1 -> tr(s + c^2 s - 2 c s) = (1 - c)^2 tr(s)
    expected = ((mu1 - mu2) ** 2).sum() + (1 - c) ** 2 * np.trace(s)
    assert frechet_distance(mu1, s, mu2, c * c * s) == pytest.approx(expected, rel=1e-10)


def test_general_case_matches_scipy_sqrtm():
    rng = np.random.default_rng(1)
    s1, s2 = _random_spd(rng, 50), _random_spd(rng, 50)
    mu1, mu2 = rng.normal(size=50), rng.normal(size=50)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_stats_are_float64_mean_and_unbiased_covariance():
    x = np.random.default_rng(2).normal(size=(300, 5)).astype(np.float32)
    s = gaussian_stats(x)
    assert s.mu.dtype == np.float64 and s.n == 300
    np.testing.assert_allclose(s.sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-10, atol=1e-12)


def test_too_few_samples_and_mismatched_shapes_are_refused():
    with pytest.raises(GanlabError, match="at least 2"):
        gaussian_stats(np.zeros((1, 2048)))
    with pytest.raises(GanlabError, match="disagree in shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_bootstrap_interval_brackets_the_value_and_shrinks_with_more_samples():
    rng = np.random.default_rng(3)
    ref = gaussian_stats(rng.normal(size=(4000, 8)))
    widths = []
    for n in (200, 3200):
        fake = rng.normal(loc=0.3, size=(n, 8))
        value = frechet_distance(*_pair(gaussian_stats(fake), ref))
        ci = bootstrap_fid(fake, ref, resamples=200, seed=0)
        assert ci["ci_low"] <= value * 1.2 and ci["ci_high"] >= value * 0.8
        assert ci["ci_low"] < ci["ci_high"] and ci["bootstrap_std"] > 0
        widths.append(ci["ci_high"] - ci["ci_low"])
    assert widths[1] < widths[0] / 2  # ~ 1/sqrt(n): 16x the samples, ~1/4 the width


def _pair(a, b):
    return a.mu, a.sigma, b.mu, b.sigma


def test_bootstrap_is_reproducible_for_a_seed():
    ref = gaussian_stats(np.random.default_rng(4).normal(size=(500, 6)))
    fake = np.random.default_rng(5).normal(size=(100, 6))
    assert bootstrap_fid(fake, ref, 10, seed=3) == bootstrap_fid(fake, ref, 10, seed=3)
    assert bootstrap_fid(fake, ref, 10, seed=3) != bootstrap_fid(fake, ref, 10, seed=4)


@pytest.mark.parametrize("n1, n2", [(30, 45), (5, 200), (300, 400)])
def test_distance_from_features_equals_the_covariance_route(n1, n2):
    """Few samples in many dimensions (rank-deficient covariances) and the full-rank case alike."""
    rng = np.random.default_rng(6)
    x1, x2 = rng.normal(size=(n1, 100)), rng.normal(loc=0.2, scale=1.3, size=(n2, 100))
    a, b = gaussian_stats(x1), gaussian_stats(x2)
    assert frechet_distance_from_features(x1, x2) == pytest.approx(frechet_distance(a.mu, a.sigma, b.mu, b.sigma),
                                                                   rel=1e-6)  # eigh route: sqrt of round-off


def test_bootstrap_from_features_agrees_with_the_covariance_route():
    rng = np.random.default_rng(8)
    real, fake = rng.normal(size=(60, 40)), rng.normal(loc=0.2, size=(30, 40))
    a = bootstrap_fid(fake, gaussian_stats(real), 6, seed=2)
    b = bootstrap_fid(fake, gaussian_stats(real), 6, seed=2, reference_features=real)
    assert b["bootstrap_resamples"] == 6
    for key in ("ci_low", "ci_high", "bootstrap_std"):
        assert a[key] == pytest.approx(b[key], rel=1e-5)
