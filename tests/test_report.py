"""ganlab report: one self-contained HTML file for a run or a sweep."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.explore.class_means import class_means
from ganlab.explore.common import load_explorer
from ganlab.explore.fake_labels import fake_labels
from ganlab.folders import RunDir, SweepDir
from ganlab.report.html import write_report

EVAL_RECORDS = [  # as the training evaluation hook writes them
    {"kind": "eval", "step": 20, "epoch": 1, "fid": 150.0, "fid_name": "fid10k_test", "best_fid": 150.0,
     "metrics": {"fid10k_test": {"value": 150.0, "n": 10000}, "is10k": {"value": 1.9, "std": 0.01}}},
    {"kind": "eval", "step": 40, "epoch": 2, "fid": 120.0, "fid_name": "fid10k_test", "best_fid": 120.0,
     "metrics": {"fid10k_test": {"value": 120.0, "n": 10000}, "is10k": {"value": 2.1, "std": 0.01}}},
]
EVAL_JSON = {"fid10k_test": {"value": 120.0, "n": 10000, "epoch": 2},
             "acc10k": {"value": 0.91, "epoch": 2, "per_class": [0.9, 0.92]}}


def make_report_run(source: Path, target: Path) -> Path:
    """A copy of a trained run with two explorations, evaluation records and an eval.json."""
    run = shutil.copytree(source, target)
    ex = load_explorer(run)
    class_means(ex, per_class=3)
    fake_labels(ex, inside=1, outside=1, per_code=3)
    with RunDir(run).metrics.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in EVAL_RECORDS)
    RunDir(run).eval.write_text(json.dumps(EVAL_JSON))
    return run


@pytest.fixture(scope="module")
def report_run(explore_run, tmp_path_factory) -> Path:
    return make_report_run(explore_run, tmp_path_factory.mktemp("report") / "run")


def image_sources(html: str) -> list[str]:
    return re.findall(r'<img[^>]* src="([^"]+)"', html)


def test_run_report_is_self_contained(report_run):
    out = write_report(report_run)
    html = out.read_text()
    sources = image_sources(html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from anywhere
    # curves + eval curves + 2 epoch grids + class means + fake labels
    assert len(sources) == 6
    for text in ("fid10k_test", "is10k", "epoch 2", "class means", "fake labels", "overall range",
                 "model:", "median time per iteration", "<td class=\"num\">acc10k</td>", "0.91", "[0.9, 0.92]",
                 "120 (epoch 2)"):
        assert text in html, text
    from ganlab.report.curves import eval_series

    assert eval_series(report_run) == {"fid10k_test": [(1.0, 150.0), (2.0, 120.0)], "is10k": [(1.0, 1.9), (2.0, 2.1)]}
    assert RunDir(report_run).curves.is_file() and RunDir(report_run).eval_curves.is_file()


def test_report_cli(report_run, tmp_path):
    out = CliRunner().invoke(main, ["report", str(report_run), "-o", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "r.html").stat().st_size > 10_000


def test_sweep_report_links_each_run(explore_run, tmp_path):
    sweep = tmp_path / "sweep"
    for name in ("z8", "z16"):
        shutil.copytree(explore_run, SweepDir(sweep).run(name).path)
    SweepDir(sweep).figures.mkdir()
    shutil.copy(RunDir(explore_run).epoch_grid(1), SweepDir(sweep).metric_vs_key("fid", "z"))
    rows = [{"run_dir": "runs/z8", "model.z_dim": 8, "fid": 100.5},
            {"run_dir": "runs/z16", "model.z_dim": 16, "fid": 90.25}]
    (SweepDir(sweep).results_jsonl).write_text("".join(json.dumps(r) + "\n" for r in rows))
    html = write_report(sweep).read_text()
    for name in ("z8", "z16"):
        assert f'href="runs/{name}/report.html"' in html
        assert RunDir(SweepDir(sweep).run(name).path).report.is_file()
    assert "fid_vs_z" in html and "90.25" in html
    assert all(s.startswith("data:image/png;base64,") for s in image_sources(html))


def test_report_refuses_other_folders(tmp_path):
    with pytest.raises(GanlabError, match="neither a run directory"):
        write_report(tmp_path)


def test_sweep_report_tolerates_jsonl_results_and_no_figures(explore_run, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(explore_run, SweepDir(sweep).run("point-0").path)
    SweepDir(sweep).results_jsonl.write_text(json.dumps({"name": "point-0", "fid": 80.0}) + "\n{torn line\n")
    html = write_report(sweep).read_text()
    assert 'href="runs/point-0/report.html"' in html and "No figures/*.png" in html and "80" in html
