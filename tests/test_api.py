"""The Python API: ganlab.train / load / evaluate / sweep / study, the same code paths as the verbs."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from PIL import Image

import ganlab
from ganlab.errors import GanlabError
from ganlab.folders import RunDir
from ganlab.training.metrics_log import read_metrics

TINY = dict(data__name="digits", model__g_width=8, model__d_width=8, model__z_dim=4, train__batch_size=32,
            train__steps=6, train__epochs=0, train__log_every=3, device="cpu")


def test_importing_ganlab_loads_no_torch():
    out = subprocess.run([sys.executable, "-c", "import sys, ganlab; print('torch' in sys.modules, ganlab.API)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("False")
    assert set(ganlab.API) <= set(dir(ganlab))


def test_train_load_sample_grid(tmp_path):
    run = ganlab.train(None, run_dir=tmp_path / "r", progress=False, **TINY)
    assert isinstance(run, ganlab.Run) and run.status["state"] == "finished" and run.config.model.z_dim == 4
    again = ganlab.load(tmp_path / "r")
    assert again.config == run.config and again.num_classes == 10
    images = again.sample(labels=[0, 3], seeds=range(4))
    assert images.dtype == torch.uint8 and images.shape == (4, 1, 8, 8)
    assert torch.equal(images, again.sample(labels=[0, 3], seeds=range(4)))  # a seed names an image
    grid = again.grid(labels=[1, 2, 5], per_class=4)
    assert isinstance(grid, Image.Image) and grid.height * 4 // 3 == pytest.approx(grid.width, abs=grid.width // 8)
    assert [r["step"] for r in again.metrics() if "loss_d" in r] == [3, 6]
    assert again.curves() == RunDir(tmp_path / "r").curves and again.curves().is_file()


def test_a_dict_config_and_keyword_overrides_are_checked_by_the_schema(tmp_path):
    run = ganlab.train({"data": {"name": "digits"}, "model": {"g_width": 8, "d_width": 8}},
                       run_dir=tmp_path / "d", progress=False, **{**TINY, "model__z_dim": 2})
    assert run.config.model.z_dim == 2 and run.config.model.g_width == 8
    with pytest.raises(GanlabError, match="unknown config key 'model.z_dimm'"):
        ganlab.train(None, run_dir=tmp_path / "bad", model__z_dimm=3)


def test_evaluate_a_run_and_a_sampler(tmp_path, digits_classifier):
    run = ganlab.train(None, run_dir=tmp_path / "e", progress=False, **TINY)
    results = ganlab.evaluate(run, metrics=["cfd", "acc"], n=40)
    assert set(results) == {"cfd40_test", "acc40"} and RunDir(run.path).read_eval().keys() == results.keys()
    ganlab.evaluate(run, metrics=["cfd"], n=40, log=True)  # also into the training record, at the export's iteration
    logged = [r for r in read_metrics(run.path) if r.get("after_training")]
    assert [(r["step"], list(r["metrics"])) for r in logged] == [(6, ["cfd40_test"])]
    sampler = lambda labels: run.sample(labels=None, seeds=range(len(labels)))[: len(labels)]  # noqa: E731
    direct = ganlab.evaluate(sampler, metrics=["cfd"], n=40, config=_digits_config(tmp_path))
    assert direct["cfd40_test"]["value"] > 0
    with pytest.raises(GanlabError, match="needs the config of its data set"):
        ganlab.evaluate(sampler, metrics=["cfd"], n=10)


def _digits_config(tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text("data: {name: digits}\n")
    return path
