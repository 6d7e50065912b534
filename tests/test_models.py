import itertools

import pytest
import torch

from ganlab.config import load_config
from ganlab.data.spec import ImageSpec
from ganlab.errors import GanlabError
from ganlab.models import build_models
from ganlab.models.layout import conv_layout

CASES = list(itertools.product(["dcgan", "mlp"], ["none", "onehot", "embedding"], [0, 5], [(1, 8), (1, 28), (3, 32)]))


@pytest.mark.parametrize("family, conditioning, z_dim, image", CASES)
def test_shapes_and_gradients(family, conditioning, z_dim, image):
    if z_dim == 0 and conditioning == "none":
        pytest.skip("refused by the config (tested there)")
    channels, resolution = image
    torch.manual_seed(0)  # unseeded, about 1 initialisation in 300 gives two labels the same image (seen once)
    cfg = load_config(None, [f"model.family={family}", f"model.conditioning={conditioning}", f"model.z_dim={z_dim}",
                             "model.g_width=8", "model.d_width=8", "model.embed_dim=3"]).model
    spec = ImageSpec(channels=channels, resolution=resolution, num_classes=10)
    g, d = build_models(cfg, spec)
    z, y = torch.randn(4, z_dim), torch.tensor([0, 3, 7, 9])
    x = g(z, y)
    assert x.shape == (4, channels, resolution, resolution)
    assert x.min() >= -1 and x.max() <= 1
    logits = d(x, y)
    assert logits.shape == (4,)
    logits.sum().backward()
    for net in (g, d):
        grads = [p.grad for p in net.parameters() if p.requires_grad]
        assert all(gr is not None and torch.isfinite(gr).all() for gr in grads)
        assert any(gr.abs().sum() > 0 for gr in grads)
    if conditioning != "none":  # the label changes the output
        g.eval()
        assert not torch.allclose(g(z[:1], y[:1]), g(z[:1], y[1:2]))


def test_z_dim_zero_is_driven_by_label_alone():
    cfg = load_config(None, ["model.z_dim=0", "model.g_width=8"]).model
    g, _ = build_models(cfg, ImageSpec(1, 28, 10))
    g.eval()
    y = torch.tensor([4, 4])
    out = g(torch.zeros(2, 0), y)
    assert torch.equal(out[0], out[1])


def test_discriminator_rejects_wrong_image_shape():
    cfg = load_config(None, ["model.d_width=8"]).model
    _, d = build_models(cfg, ImageSpec(1, 28, 10))
    with pytest.raises(AssertionError, match="expected images"):
        d(torch.zeros(2, 3, 28, 28), torch.zeros(2, dtype=torch.long))


@pytest.mark.parametrize("resolution, layout", [(8, (4, 1)), (28, (7, 2)), (32, (4, 3)), (64, (4, 4))])
def test_conv_layout(resolution, layout):
    assert conv_layout(resolution) == layout


@pytest.mark.parametrize("resolution", [4, 27, 30, 36 * 4 + 2])
def test_unbuildable_resolution(resolution):
    with pytest.raises(GanlabError, match=f"resolution {resolution} cannot be built"):
        conv_layout(resolution)


def test_unlabelled_data_needs_no_conditioning():
    cfg = load_config(None, ["model.conditioning=onehot"]).model
    with pytest.raises(GanlabError, match="set model.conditioning=none"):
        build_models(cfg, ImageSpec(3, 32, 0))


def test_d_batchnorm_adds_norm_layers():
    with_bn = build_models(load_config(None, ["model.d_batchnorm=true"]).model, ImageSpec(1, 28, 10))[1]
    without = build_models(load_config(None, []).model, ImageSpec(1, 28, 10))[1]
    count = lambda m: sum(isinstance(x, torch.nn.BatchNorm2d) for x in m.modules())
    assert count(with_bn) == 1 and count(without) == 0


def _layers(net: torch.nn.Module, kind: type) -> list[torch.nn.Module]:
    return [m for m in net.modules() if isinstance(m, kind)]


def test_report000_mnist_nets_kernel_3_and_leaky_relu_from_the_preset():
    """configs/mnist_cgan.yaml: G 2 transposed-conv blocks 3x3 stride 2 with LeakyReLU, D 2 convs 3x3 stride 2."""
    g, d = build_models(load_config("configs/mnist_cgan.yaml", ["model.g_width=8", "model.d_width=8"]).model,
                        ImageSpec(1, 28, 10))
    convs_t, convs = _layers(g, torch.nn.ConvTranspose2d), _layers(d, torch.nn.Conv2d)
    assert [(c.kernel_size, c.stride) for c in convs_t + convs] == [((3, 3), (2, 2))] * 4
    assert not _layers(g, torch.nn.ReLU) and len(_layers(g, torch.nn.LeakyReLU)) == 2  # the dense start and block 1
    assert g(torch.randn(2, 100), torch.tensor([1, 2])).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("kernel", [2, 3, 5, 6])
@pytest.mark.parametrize("resolution", [8, 28, 64])
def test_every_kernel_size_doubles_and_halves_exactly(kernel, resolution):
    g, d = build_models(load_config(None, [f"model.kernel_size={kernel}", "model.g_width=4", "model.d_width=4"]).model,
                        ImageSpec(3, resolution, 10))
    y = torch.tensor([0, 1])
    x = g(torch.randn(2, 100), y)
    assert x.shape == (2, 3, resolution, resolution) and d(x, y).shape == (2,)


def test_default_dcgan_is_kernel_4_with_relu():
    g, d = build_models(load_config(None, ["model.g_width=8", "model.d_width=8"]).model, ImageSpec(1, 28, 10))
    assert {c.kernel_size for c in _layers(g, torch.nn.ConvTranspose2d) + _layers(d, torch.nn.Conv2d)} == {(4, 4)}
    assert len(_layers(g, torch.nn.ReLU)) == 2 and not _layers(g, torch.nn.LeakyReLU)


@pytest.mark.parametrize("batchnorm", [True, False])
def test_extra_layers_add_same_size_3x3_blocks_to_both_networks(batchnorm):
    """model.extra_layers=2: two 3x3 stride-1 convs in G before its output conv, two in D after its first."""
    overrides = ["model.g_width=8", "model.d_width=8", f"model.d_batchnorm={batchnorm}"]
    base = build_models(load_config(None, overrides).model, ImageSpec(3, 32, 10))
    g, d = build_models(load_config(None, overrides + ["model.extra_layers=2"]).model, ImageSpec(3, 32, 10))
    same = [[m for m in _layers(net, torch.nn.Conv2d) if m.stride == (1, 1)] for net in (g, d)]
    assert [[(c.kernel_size, c.in_channels, c.out_channels) for c in convs] for convs in same] == [
        [((3, 3), 8, 8)] * 2, [((3, 3), 8, 8)] * 2]
    assert list(g.blocks)[-2].out_channels == 3 and isinstance(list(g.blocks)[-5], torch.nn.Conv2d)
    assert isinstance(list(d.blocks)[0], torch.nn.Conv2d) and list(d.blocks)[2] is same[1][0]
    added = len(_layers(d, torch.nn.BatchNorm2d)) - len(_layers(base[1], torch.nn.BatchNorm2d))
    assert added == (2 if batchnorm else 0)
    y = torch.tensor([0, 1])
    x = g(torch.randn(2, 100), y)
    assert x.shape == (2, 3, 32, 32) and d(x, y).shape == (2,)


def test_as_in_training_uses_batch_statistics_and_changes_nothing():
    import copy

    from ganlab.models.normalization import apply_spectral_norm, as_in_training

    torch.manual_seed(0)
    d = apply_spectral_norm(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4)))
    d(torch.randn(8, 1, 6, 6) + 3)  # running statistics far from the batch below
    d.eval()
    before = copy.deepcopy(d.state_dict())
    x = torch.randn(8, 1, 6, 6)
    reference = copy.deepcopy(d).train()(x)
    with torch.no_grad(), as_in_training(d):
        out = d(x)
    assert torch.allclose(out, reference)  # batch statistics, as in training
    assert not torch.allclose(out, d(x))  # eval mode (running statistics) differs
    assert not d.training
    assert all(torch.equal(before[k], v) for k, v in d.state_dict().items())  # buffers put back
