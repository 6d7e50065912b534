"""Probes of G and D during training (eval.probes): records with values in their ranges, D left as it was, and
refusals of runs that cannot take them."""

from __future__ import annotations

import json

import pytest
import torch

from ganlab.config import load_config
from ganlab.data import load_data
from ganlab.errors import GanlabError
from ganlab.models import build_models
from ganlab.training.probes import NOISE_EPS, check_probes, run_probes


def _cfg(*overrides: str):
    return load_config(None, ["data.name=digits", "model.family=dcgan", "model.conditioning=embedding",
                              "model.z_dim=8", "model.g_width=8", "model.d_width=8", "model.d_batchnorm=true",
                              "eval.probes=[dacc,spread,zero,noise,fakelabel,paths]", "eval.probe_per_class=12",
                              *overrides])


def test_probes_give_each_record_in_range_and_leave_d_unchanged(digits_classifier, tmp_path):
    cfg = _cfg()
    data = load_data(cfg.data)
    g, d = build_models(cfg.model, data.spec)
    before = {k: v.clone() for k, v in d.state_dict().items()}
    records = run_probes(cfg, g.eval(), d, data, torch.device("cpu"), tmp_path)
    names = ({"dacc120", "dgap120", "spread120", "zero120", "fakelabel240", "smooth100", "third100"}
             | {f"{p}120_e{e:g}" for p in ("zdrop", "ldrop", "lzgap") for e in NOISE_EPS})
    assert set(records) == names
    dacc = records["dacc120"]
    assert 0 <= dacc["real_acc"] <= 1 and 0 <= dacc["fake_acc"] <= 1
    assert dacc["value"] == pytest.approx((dacc["real_acc"] + dacc["fake_acc"]) / 2)
    assert records["dgap120"]["value"] == pytest.approx(dacc["fake_acc"] - dacc["real_acc"])
    assert [r["n_real"] for r in dacc["per_class"]] == [12] * 10
    for e in NOISE_EPS:
        z, label = records[f"zdrop120_e{e:g}"]["value"], records[f"ldrop120_e{e:g}"]["value"]
        assert -1 <= z <= 1 and records[f"lzgap120_e{e:g}"]["value"] == pytest.approx(label - z)
    assert -1 <= records["zero120"]["value"] <= 1 and len(records["zero120"]["zero_confidence"]) == 10
    assert records["spread120"]["value"] > 0 and len(records["spread120"]["per_class"]) == 10
    fake = records["fakelabel240"]
    assert fake["value"] == pytest.approx(fake["inside_certainty"] - fake["outside_certainty"])
    assert 0.1 <= fake["inside_certainty"] <= 1  # a highest probability of 10 classes is at least 0.1
    assert records["smooth100"]["paths"] == 10 and 0 <= records["smooth100"]["value"] <= 1
    assert 0 <= records["third100"]["value"] <= 1
    assert all(torch.equal(before[k], v) for k, v in d.state_dict().items())  # BatchNorm statistics put back
    json.dumps(records)  # they go into metrics.jsonl as they are


def test_probes_are_refused_with_the_fix():
    with pytest.raises(GanlabError, match="choose from dacc, spread, zero"):
        _cfg("eval.probes=[dac]")
    with pytest.raises(GanlabError, match="probe_per_class"):
        _cfg("eval.probe_per_class=0")
    with pytest.raises(GanlabError, match="unconditional"):
        check_probes(_cfg("model.conditioning=none"), conditional=False)


def test_an_unconditional_generator_takes_the_paths_probe_alone(digits_classifier, tmp_path):
    cfg = _cfg("model.conditioning=none", "eval.probes=[paths]")
    check_probes(cfg, conditional=False)  # accepted
    data = load_data(cfg.data)
    g, d = build_models(cfg.model, data.spec)
    records = run_probes(cfg, g.eval(), d, data, torch.device("cpu"), tmp_path)
    assert set(records) == {"smooth120"}  # 12 pairs of latents, 10 images each
    smooth = records["smooth120"]
    assert smooth["paths"] == 12 and 0 <= smooth["value"] <= 1
    assert 0 <= smooth["mean_changes"] <= 9 and (smooth["value"] < 1 or smooth["mean_changes"] <= 1)
