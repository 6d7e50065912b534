"""benchmarks/fid_agrees.py: a cfd-decided finding decided again by FID logged after training, on its own points."""

import sys
from pathlib import Path

import torch

from ganlab.folders import StudyDir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import fid_agrees  # noqa: E402
from test_findings import _log_after_training, _sweep  # noqa: E402

STUDY = """title: t
scales: {full: [], cpu: [], tiny: []}
steps:
  - {name: latent, command: [sweep, x]}
findings:
  - {id: F, claim: c, report: r, rule: direction, step: latent, metric: cfd, a: {z_dim: 0}, b: {z_dim: 8}, expect: ">"}
"""


def test_fid_is_read_for_the_findings_points_and_compared_with_cfd(tmp_path):
    study = StudyDir(tmp_path / "study")
    _sweep(study, {(z, s): [9 + z, 8 + z, 7 + (8 - z) + s % 2] for z in (0, 8, 64) for s in range(4)})
    for z, fid in ((0, 60.0), (8, 40.0)):  # FID-1k logged after training at the last iteration, seeds 0-2 only
        for seed in range(3):
            _log_after_training(study, f"z_dim={z}_seed={seed}",
                                [{"step": 100, "metrics": {"fid1k_test1k": {"value": fid + seed}}}])
    (tmp_path / "study.yaml").write_text(STUDY)
    result = fid_agrees.check(str(tmp_path / "study.yaml"), str(study.path), "F", 1000, [0, 1, 2],
                              torch.device("cpu"))
    assert sorted(Path(r).name for r in result["runs"]) == [f"z_dim={z}_seed={s}" for z in (0, 8) for s in range(3)]
    assert result["fid"]["verdict"] == "reproduced" and result["fid"]["seeds"] == 3 and result["fid"]["measured"] == 20
    # cfd at iteration 100 on the same seeds (seed 3 left out): z = 0 ends at 15 or 16, z = 8 at 7 or 8
    assert result["cfd"]["verdict"] == "reproduced" and result["cfd"]["seeds"] == 3 and result["agree"]
