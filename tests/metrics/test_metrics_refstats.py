"""The reference-statistics cache: computed once, reused, a corrupted file detected and recomputed."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

from ganlab.errors import GanlabError
from ganlab.metrics import refstats
from ganlab.metrics.frechet import gaussian_stats
from ganlab.metrics.inception import InceptionNet
from ganlab.metrics.refstats import Reference, _cache_path, reference_features, reference_stats
from ganlab.progress import Progress


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


def test_corrupted_cache_is_detected_and_recomputed(inception_net, mnist_cfg, capsys):
    ref = Reference(mnist_cfg, "test", 6)
    good = reference_stats(inception_net, ref)
    path = _cache_path("stats", ref, inception_net)
    with np.load(path) as blob:  # flip one number but keep a readable file: only the checksum can tell
        arrays = {k: blob[k] for k in blob.files}
    arrays["mu"] = arrays["mu"] + 1.0
    np.savez(path.open("wb"), **arrays)
    capsys.readouterr()
    fixed = reference_stats(inception_net, ref)
    assert "checksum mismatch" in capsys.readouterr().err
    np.testing.assert_allclose(fixed.mu, good.mu, rtol=1e-6)
    path.write_bytes(b"not a zip file at all")  # a torn write
    again = reference_stats(inception_net, ref)
    assert "corrupted" in capsys.readouterr().err
    np.testing.assert_allclose(again.mu, good.mu, rtol=1e-6)


def test_features_cache_and_per_class_reference(inception_net, mnist_cfg):
    feats, labels = reference_features(inception_net, Reference(mnist_cfg, "test", 6))
    assert feats.shape == (6, 2048) and labels.shape == (6,)
    ones, _ = Reference(mnist_cfg, "test", 3, label=1).images()
    assert ones.shape[0] == 3


def test_reference_larger_than_the_split_is_refused(mnist_cfg):
    with pytest.raises(GanlabError, match="has 10000"):
        Reference(mnist_cfg, "test", 10001).images()


def test_interrupted_streamed_pass_resumes_from_its_saved_sums(inception_net, mnist_cfg, real_features, monkeypatch):
    net = InceptionNet(device="cpu", batch_size=1)  # chunks of 2 images; the network itself is loaded once
    monkeypatch.setattr(refstats, "CHUNK_BATCHES", 2)
    ref = Reference(mnist_cfg, "test", 5)  # a count no other test caches
    partial = _cache_path("partial", ref, net)
    # The saved state of a pass stopped after 3 images, except that its sums are of 3 *train* images: a resumed
    # pass keeps them (and runs only images 3 and 4), a pass that started over would not.
    k = 3
    first = real_features.train[:k].astype(np.float64)
    refstats._save(partial, {"n": np.array(5), "done": np.array(k), "total": first.sum(0), "outer": first.T @ first})
    monkeypatch.setattr(refstats, "PARTIAL_SAVE_EVERY_S", 0.0)
    monkeypatch.setattr(refstats, "FEATURES_CACHED_UP_TO", 4)  # so 5 images are streamed, not kept

    stats = reference_stats(net, ref)
    expected = gaussian_stats(np.concatenate([real_features.train[:k], real_features.test[k:5]]))
    np.testing.assert_allclose(stats.mu, expected.mu, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats.sigma, expected.sigma, rtol=1e-3, atol=1e-5)
    assert not partial.exists()  # removed once the statistics are cached
    assert not _cache_path("features", ref, net).exists()


def test_streamed_pass_saves_its_running_sums_and_reports_progress(inception_net, mnist_cfg, real_features,
                                                                   monkeypatch):
    net = InceptionNet(device="cpu", batch_size=1)
    monkeypatch.setattr(refstats, "CHUNK_BATCHES", 2)
    ref = Reference(mnist_cfg, "test", 4)
    partial = _cache_path("partial", ref, net)
    refstats._streamed_stats(net, ref, partial, save_every_s=0.0)  # chunks 0..1 then 2..3: one save
    with np.load(partial) as blob:
        assert int(blob["done"]) == 2 and int(blob["n"]) == 4
        np.testing.assert_allclose(blob["total"], real_features.test[:2].astype(np.float64).sum(0), rtol=1e-4)

    out = io.StringIO()
    progress = Progress("mnist test reference", 15, done=10, every_s=0.0, stream=out)
    progress.advance(3)
    assert out.getvalue().startswith("ganlab: mnist test reference: 13/15 images, ")
    assert "left" in out.getvalue()
