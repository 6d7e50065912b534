"""Inception Score, KID and precision/recall on cases with known answers, and on real features."""

from __future__ import annotations

import numpy as np
import pytest

from ganlab.errors import GanlabError
from ganlab.metrics.scores import inception_score, kernel_inception_distance, precision_recall


def test_inception_score_bounds():
    k = 10
    confident_balanced = np.eye(k)[np.arange(1000) % k]  # sure of each class, all classes equally: IS = K
    mean, std = inception_score(confident_balanced)
    assert mean == pytest.approx(k, rel=1e-6) and std == pytest.approx(0, abs=1e-6)
    collapsed = np.eye(k)[np.zeros(1000, dtype=int)]  # one class only: IS = 1
    assert inception_score(collapsed)[0] == pytest.approx(1.0, rel=1e-6)
    unsure = np.full((1000, k), 1 / k)  # no confidence: IS = 1
    assert inception_score(unsure)[0] == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(GanlabError, match="at least 10 samples"):
        inception_score(unsure[:5])


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(600, 32))
    same, _ = kernel_inception_distance(rng.normal(size=(600, 32)), real, subsets=20, subset_size=300)
    shifted, _ = kernel_inception_distance(rng.normal(loc=0.5, size=(600, 32)), real, subsets=20, subset_size=300)
    assert abs(same) < 0.01 and shifted > 10 * max(abs(same), 1e-3)


def test_precision_recall_separate_quality_from_coverage():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(500, 2))
    p, r = precision_recall(rng.normal(size=(500, 2)), real, k=3)
    assert p > 0.85 and r > 0.85
    collapsed = rng.normal(scale=0.05, size=(500, 2))  # good samples, tiny coverage
    p, r = precision_recall(collapsed, real, k=3)
    assert p > 0.95 and r < 0.3
    off = rng.normal(loc=10, size=(500, 2))  # samples nowhere near the data
    p, r = precision_recall(off, real, k=3)
    assert p < 0.05 and r < 0.05
    with pytest.raises(GanlabError, match="more than 3 samples"):
        precision_recall(real[:3], real, k=3)


def test_scores_on_real_inception_features(real_features):
    """Two real MNIST splits: KID small, precision and recall well above a broken pipeline's zero."""
    kid, _ = kernel_inception_distance(real_features.train, real_features.test, subsets=10, subset_size=30)
    assert abs(kid) < 0.05
    p, r = precision_recall(real_features.train, real_features.test, k=3)
    assert p > 0.5 and r > 0.5
