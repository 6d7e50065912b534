"""Each GAN loss on known logits (and its definition), numerical stability, L1, and the WGAN-GP gradient
penalty on a case with a closed form."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from ganlab.losses import LOSSES, d_bce, d_hinge, g_bce_minimax, g_bce_nonsaturating, g_hinge, l1_reconstruction
from ganlab.training.penalty import gradient_penalty

REAL, FAKE = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])


def test_bce_values_match_definition():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    sig = torch.sigmoid
    expected_d = -(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean())
    assert torch.allclose(d_bce(real, fake), expected_d, atol=1e-6)
    assert torch.allclose(g_bce_nonsaturating(fake), -torch.log(sig(fake)).mean(), atol=1e-6)
    assert torch.allclose(g_bce_minimax(fake), torch.log(1 - sig(fake)).mean(), atol=1e-6)


def test_bce_is_stable_for_large_logits():
    big = torch.tensor([200.0, 150.0])
    assert torch.isfinite(d_bce(big, -big)) and d_bce(big, -big).item() < 1e-6
    assert d_bce(-big, big).item() == 350.0  # confidently wrong: large but finite
    assert math.isclose(g_bce_nonsaturating(torch.tensor([-200.0])).item(), 200.0, rel_tol=1e-6)


def test_hinge_values():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    assert d_hinge(real, fake).item() == (0 + 0.5) / 2 + (0 + 1.0) / 2
    assert g_hinge(fake).item() == 1.0


def test_l1_and_registry():
    a, b = torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)
    assert l1_reconstruction(a, b).item() == 1.0
    assert set(LOSSES) >= {"bce", "bce-minimax", "hinge"}


@pytest.mark.parametrize("name, d_value, g_value", [
    # lsgan: D 0.5*mean((0, 4)) + 0.5*mean((0, 4)) = 2; G 0.5*mean((1, 1)) = 0.5
    ("lsgan", 2.0, 0.5),
    # wgan-gp critic: mean(fake) - mean(real) = 1 - 2; G: -mean(fake)
    ("wgan-gp", -1.0, -1.0),
])
def test_loss_values_on_known_logits(name: str, d_value: float, g_value: float):
    d_loss, g_loss = LOSSES[name]
    assert d_loss(REAL, FAKE).item() == pytest.approx(d_value)
    assert g_loss(FAKE).item() == pytest.approx(g_value)


class LinearCritic(nn.Module):
    """D(x, y) = <w, x>: its input gradient is w everywhere."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.w


def test_gradient_penalty_of_a_linear_critic():
    w = torch.tensor([3.0, 0.0, 4.0, 0.0])  # ||w|| = 5
    d = LinearCritic(w.clone())
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    gp = gradient_penalty(d, real, fake, torch.zeros(6, dtype=torch.long),
                          torch.rand(6, 1, 1, 1, generator=torch.Generator().manual_seed(0)))
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)
    gp.backward()  # the penalty trains D: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    torch.testing.assert_close(d.w.grad, 2 * 4.0 * w / 5.0)


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    d = LinearCritic(torch.tensor([0.6, 0.8]))
    gp = gradient_penalty(d, torch.randn(3, 2, 1, 1), torch.randn(3, 2, 1, 1), torch.zeros(3, dtype=torch.long),
                          torch.rand(3, 1, 1, 1))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
