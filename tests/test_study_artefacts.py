"""The study artefacts of the reports from the command line: the distance matrix between runs and the real
images (report 000, table 1) and D's per-class accuracy table (report 002, table 3)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ganlab.cli import main


def test_matrix_between_runs_and_real_images(explore_run, tmp_path, digits_classifier):
    out = tmp_path / "m"
    result = CliRunner().invoke(main, ["matrix", str(explore_run), str(explore_run), "--metric", "cfd", "--n", "100",
                                       "--names", "a,b", "-o", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["names"] == ["a", "b", "real (test)"]
    m = data["matrix"]
    assert m[0][1] < 1e-6  # the same generator with the same seeds
    assert m[0][2] > 0 and m[0][2] == m[2][0]
    assert "| a | 0.0 |" in out.with_suffix(".md").read_text() and out.with_suffix(".png").stat().st_size > 5000
    bad = CliRunner().invoke(main, ["matrix", str(explore_run), "--metric", "kid", "-o", str(out)])
    assert bad.exit_code == 2 and "fid or cfd" in bad.output


def test_d_accuracy_per_class_table(explore_run, tmp_path):
    result = CliRunner().invoke(main, ["explore", str(explore_run), "d-accuracy", "--per-class", "20",
                                       "--out", str(tmp_path), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "d_accuracy.json").read_text())
    assert [r["class"] for r in data["classes"]] == list(range(10))
    assert all(r["n_real"] == r["n_fake"] == 20 and 0 <= r["real_acc"] <= 1 for r in data["classes"])
    table = (tmp_path / "d_accuracy.md").read_text().splitlines()
    assert table[2].startswith("| class | real accuracy") and len(table) == 4 + 10
    assert (tmp_path / "d_accuracy.png").is_file() and (tmp_path / "d_accuracy.csv").read_text().count("\n") == 11
