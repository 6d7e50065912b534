"""The reference-statistics cache: computed once, reused, a corrupted file detected and recomputed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ganlab.errors import GanlabError
from ganlab.metrics.frechet import gaussian_stats
from ganlab.metrics.refstats import Reference, _cache_path, reference_features, reference_stats


def test_stats_are_cached_reused_and_match_the_features(inception_net, mnist_cfg, real_features):
    ref = Reference(mnist_cfg, "test", 12)
    first = reference_stats(inception_net, ref)
    path = _cache_path("stats", ref, inception_net)
    assert path.is_file() and first.n == 12
    expected = gaussian_stats(real_features.test[:12])  # the same 12 images, from the session features
    np.testing.assert_allclose(first.mu, expected.mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first.sigma, expected.sigma, rtol=1e-4, atol=1e-6)
    t0 = time.perf_counter()
    again = reference_stats(inception_net, ref)  # no network pass: milliseconds, not seconds
    assert time.perf_counter() - t0 < 1.0
    np.testing.assert_array_equal(again.sigma, first.sigma)


def test_corrupted_cache_is_detected_and_recomputed(inception_net, mnist_cfg):
    ref = Reference(mnist_cfg, "test", 6)
    good = reference_stats(inception_net, ref)
    path = _cache_path("stats", ref, inception_net)
    with np.load(path) as blob:  # flip one number but keep a readable file: only the checksum can tell
        arrays = {k: blob[k] for k in blob.files}
    arrays["mu"] = arrays["mu"] + 1.0
    np.savez(path.open("wb"), **arrays)
    with pytest.warns(UserWarning, match="checksum mismatch"):
        fixed = reference_stats(inception_net, ref)
    np.testing.assert_allclose(fixed.mu, good.mu, rtol=1e-6)
    path.write_bytes(b"not a zip file at all")  # a torn write
    with pytest.warns(UserWarning, match="corrupted"):
        again = reference_stats(inception_net, ref)
    np.testing.assert_allclose(again.mu, good.mu, rtol=1e-6)


def test_features_cache_and_per_class_reference(inception_net, mnist_cfg):
    feats, labels = reference_features(inception_net, Reference(mnist_cfg, "test", 6))
    assert feats.shape == (6, 2048) and labels.shape == (6,)
    ones, _ = Reference(mnist_cfg, "test", 3, label=1).images()
    assert ones.shape[0] == 3


def test_reference_larger_than_the_split_is_refused(mnist_cfg):
    with pytest.raises(GanlabError, match="has 10000"):
        Reference(mnist_cfg, "test", 10001).images()
