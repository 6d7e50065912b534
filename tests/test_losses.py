import math

import torch

from ganlab.losses import LOSSES, d_bce, d_hinge, g_bce_minimax, g_bce_nonsaturating, g_hinge, l1_reconstruction


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
