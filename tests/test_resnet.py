"""The ResNet family and its parts: shapes, gradient flow, spectral norm, projection, conditional BN, init."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn as nn

from ganlab.config import load_config
from ganlab.data.spec import ImageSpec
from ganlab.errors import GanlabError
from ganlab.models import build_models
from ganlab.models.export import load_generator, save_generator
from ganlab.models.normalization import ConditionalBatchNorm2d, apply_spectral_norm
from ganlab.models.resnet import DBlock, GBlock, ResNetDiscriminator, ResNetGenerator

TINY = ["model.family=resnet", "model.g_width=8", "model.d_width=8", "model.z_dim=6", "device=cpu"]

VARIANTS = {
    "sngan-projection": ["model.g_cond=cbn", "model.d_cond=projection", "model.d_spectral_norm=true"],
    "report002-concat": ["model.conditioning=embedding", "model.embed_dim=4", "model.d_label_depth=2",
                         "model.d_batchnorm=true", "model.d_spectral_norm=true", "model.init=xavier"],
    "transposed-sn-g": ["model.upsample=transposed", "model.g_spectral_norm=true", "model.init=orthogonal",
                        "model.d_cond=projection"],
    "no-bn-unconditional": ["model.conditioning=none", "model.g_batchnorm=false", "model.init=dcgan"],
}
SPECS = [ImageSpec(1, 8, 10), ImageSpec(1, 28, 10), ImageSpec(3, 32, 10)]


def _models(variant: str, spec: ImageSpec) -> tuple[nn.Module, nn.Module, int]:
    cfg = load_config(None, TINY + VARIANTS[variant])
    torch.manual_seed(0)
    g, d = build_models(cfg.model, spec)
    return g, d, cfg.model.z_dim


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.channels}x{s.resolution}")
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_shapes_and_gradient_flow(variant: str, spec: ImageSpec):
    g, d, z_dim = _models(variant, spec)
    z, y = torch.randn(4, z_dim), torch.tensor([0, 3, 3, 9])
    x = g(z, y)
    assert x.shape == (4, spec.channels, spec.resolution, spec.resolution)
    assert x.abs().max() <= 1.0
    logits = d(x, y)
    assert logits.shape == (4,)
    logits.sum().backward()
    for name, p in list(g.named_parameters()) + list(d.named_parameters()):
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), name
        if p.dim() > 1:  # weights (not biases just before a BatchNorm, whose gradient is ~0)
            assert p.grad.abs().sum() > 0, f"{name} got a zero gradient"


def test_gblock_and_dblock_shapes():
    code = torch.eye(5)[torch.tensor([1, 2])]  # (2, 5) label codes
    for mode in ("resize", "transposed"):
        assert GBlock(6, 4, "cbn", 5, mode)(torch.randn(2, 6, 7, 7), code).shape == (2, 4, 14, 14)
    assert DBlock(3, 8, True, downsample=True, first=True)(torch.randn(2, 3, 28, 28)).shape == (2, 8, 14, 14)
    assert DBlock(8, 8, False, downsample=False)(torch.randn(2, 8, 7, 7)).shape == (2, 8, 7, 7)
    assert isinstance(DBlock(8, 8, False, downsample=False).shortcut, nn.Identity)


def test_spectral_norm_bounds_every_weight_by_one():
    torch.manual_seed(0)
    d = ResNetDiscriminator(1, 28, 16, False, "onehot", 10, 5, "projection", 0, 2, 4)
    with torch.no_grad():  # make the raw weights far from norm 1, so the bound is the normalisation's doing
        for m in d.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                m.weight.mul_(5.0)
    apply_spectral_norm(d)
    x, y = torch.randn(4, 1, 28, 28), torch.randint(0, 10, (4,))
    for _ in range(20):  # one power iteration per training forward
        d(x, y)
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert len(layers) == 12 and all(hasattr(m, "parametrizations") for m in layers)
    for m in layers:
        raw = m.parametrizations.weight.original
        sigma = torch.linalg.matrix_norm(m.weight.reshape(m.weight.shape[0], -1), 2)
        assert torch.linalg.matrix_norm(raw.reshape(raw.shape[0], -1), 2) > 1.5
        assert abs(sigma.item() - 1.0) < 5e-3, (m, sigma)


def test_projection_term_is_embed_dot_features():
    torch.manual_seed(0)
    d = ResNetDiscriminator(1, 28, 8, False, "onehot", 10, 5, "projection", 0, 2, 4).eval()
    x = torch.randn(3, 1, 28, 28)
    y1, y2 = torch.tensor([0, 4, 7]), torch.tensor([1, 4, 2])
    with torch.no_grad():
        phi = d.features(x, y1)
        assert torch.equal(phi, d.features(x, y2))  # features do not see the label
        e = d.head.embed.weight
        expected = ((e[y1] - e[y2]) * phi).sum(1)
        torch.testing.assert_close(d(x, y1) - d(x, y2), expected, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(d(x, y1) - d.head.linear(phi).squeeze(1), (e[y1] * phi).sum(1))


def test_label_concatenated_at_chosen_depth():
    d = ResNetDiscriminator(1, 28, 8, False, "onehot", 10, 5, "concat", 2, 2, 4)
    assert [b.conv1.in_channels for b in d.blocks] == [1, 8, 18, 8]
    d0 = ResNetDiscriminator(3, 32, 8, False, "embedding", 10, 4, "concat", 0, 2, 4)
    assert d0.blocks[0].conv1.in_channels == 3 + 4
    x = torch.randn(2, 1, 28, 28)
    assert not torch.allclose(d.eval()(x, torch.tensor([0, 0])), d(x, torch.tensor([5, 5])))
    with pytest.raises(GanlabError, match="d_label_depth=4 is outside"):
        ResNetDiscriminator(1, 28, 8, False, "onehot", 10, 5, "concat", 4, 2, 4)


def test_conditional_batchnorm_is_per_class_affine():
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(3, 4)
    onehot = torch.eye(4)[torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])]  # (8, 4) one-hot codes
    torch.testing.assert_close(cbn(torch.randn(8, 3, 5, 5), onehot).mean(), torch.tensor(0.0),
                               atol=1e-5, rtol=0)  # starts as plain BN (gamma 1, beta 0)
    with torch.no_grad():
        cbn.gamma.normal_()
        cbn.beta.normal_()
    x, y = torch.randn(8, 3, 5, 5), onehot.argmax(1)
    mean, var = x.mean(dim=(0, 2, 3), keepdim=True), x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    normed = (x - mean) / torch.sqrt(var + cbn.bn.eps)
    # one-hot codes: SNGAN's per-class tables, gamma_c = 1 + gamma[c], beta_c = beta[c]
    expected = (1 + cbn.gamma[y])[:, :, None, None] * normed + cbn.beta[y][:, :, None, None]
    torch.testing.assert_close(cbn(x, onehot), expected, rtol=1e-4, atol=1e-5)


def test_generator_label_modes_change_the_image():
    torch.manual_seed(0)
    for mode in ("input", "cbn"):
        g = ResNetGenerator(6, 1, 8, 8, "onehot", 10, 5, mode, True, "resize").eval()
        with torch.no_grad():  # conditional BN starts identical for every class (gamma 1, beta 0)
            for m in g.modules():
                if isinstance(m, ConditionalBatchNorm2d):
                    m.beta.normal_()
        z = torch.randn(1, 6).repeat(2, 1)
        out = g(z, torch.tensor([1, 2]))
        assert not torch.allclose(out[0], out[1]), mode
    assert ResNetGenerator(6, 1, 8, 8, "onehot", 10, 5, "cbn", True, "resize").dense.in_features == 6
    assert ResNetGenerator(6, 1, 8, 8, "onehot", 10, 5, "input", True, "resize").dense.in_features == 16
    for kind in ("onehot", "embedding"):  # the explore interface: codes in, also between classes
        g = ResNetGenerator(6, 1, 8, 8, kind, 10, 5, "cbn", True, "resize").eval()
        z, y = torch.randn(3, 6), torch.tensor([0, 4, 9])
        assert torch.equal(g(z, y), g.forward_encoded(z, g.label(y)))
        mixed = 0.5 * (g.label(y) + g.label(torch.tensor([1, 1, 1])))
        assert g.forward_encoded(z, mixed).shape == (3, 1, 8, 8)
    with pytest.raises(GanlabError, match="g_batchnorm"):
        ResNetGenerator(6, 1, 8, 8, "onehot", 10, 5, "cbn", False, "resize")


def test_init_choices():
    spec = ImageSpec(1, 8, 10)
    g, _ = build_models(load_config(None, TINY + ["model.init=orthogonal"]).model, spec)
    w = g.dense.weight  # (out, in) with out > in: orthonormal columns
    torch.testing.assert_close(w.T @ w, torch.eye(w.shape[1]), atol=1e-5, rtol=0)
    g, _ = build_models(load_config(None, TINY + ["model.init=dcgan"]).model, spec)
    assert abs(g.dense.weight.std().item() - 0.02) < 0.005


def test_spectral_norm_generator_export_round_trip(tmp_path):
    cfg = load_config(None, TINY + VARIANTS["transposed-sn-g"])
    spec = ImageSpec(1, 8, 10)
    g, _ = build_models(cfg.model, spec)
    g(torch.randn(4, cfg.model.z_dim), torch.arange(4))  # move BN statistics and SN vectors
    path = save_generator(tmp_path / "g.safetensors", g, cfg, spec)
    loaded, *_ = load_generator(path)
    z, y = torch.randn(3, cfg.model.z_dim), torch.tensor([0, 5, 9])
    torch.testing.assert_close(loaded(z, y), g.eval()(z, y))


@pytest.mark.parametrize("override, message", [
    (["model.family=dcgan", "model.d_extra_blocks=1"], "resnet option"),
    (["model.g_cond=film"], "model.g_cond='film' is not one of"),
    (["train.ema_decay=1.0"], "ema_decay must be in"),
    (["train.adaptive_d_steps=true", "train.d_steps=5", "train.adaptive_max_d_steps=3"], "below train.d_steps"),
])
def test_bad_model_and_control_values_are_refused(override: list[str], message: str):
    with pytest.raises(GanlabError, match=message):
        load_config(None, override)


@pytest.mark.parametrize("config, spec, g_params, d_params", [
    ("report002_resnet_cgan", ImageSpec(1, 28, 10), 279_461, 612_217),  # report: 285,375 / 618,751
    ("cifar10_sngan_projection", ImageSpec(3, 32, 10), 4_304_387, 1_055_105),  # mimicry's SNGAN32 sizes
    ("mnist_strong", ImageSpec(1, 28, 10), 566_401, 264_129),
])
def test_presets_build_the_described_models(config: str, spec: ImageSpec, g_params: int, d_params: int):
    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / f"{config}.yaml")
    g, d = build_models(cfg.model, spec)
    assert sum(p.numel() for p in g.parameters()) == g_params
    assert sum(p.numel() for p in d.parameters()) == d_params
    if cfg.model.d_cond == "concat":
        assert cfg.model.d_label_depth == len(d.blocks) // 2  # report 002: the label joins in the middle of D
