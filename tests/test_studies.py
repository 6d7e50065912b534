"""Each report's study file runs end to end at its tiny scale (digits, a few steps), writes the artefacts the
report shows and one page, and a second run continues instead of starting over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from ganlab.cli.studies import SCALES, load_study, step_command

from ganlab.cli import main
from ganlab.errors import GanlabError

STUDIES = Path(__file__).resolve().parents[1] / "studies"
ARTEFACTS = {  # a file per study that says the report's main result was produced
    "report000": ["latent/figures/cfd200_test_vs_model.z_dim.png", "latent/figures/floor_cfd200_test.json",
                  "matrix/matrix.md", "latent-space-2d/latent_map.json"],
    "report001": ["grid/figures/table_cfd100_test.md", "grid/figures/d_outputs.png", "interpolation-tiny/interpolate.json"],
    "report002": ["cgan/eval.json", "d-accuracy/d_accuracy.md", "real-vs-generated/real_vs_fake.png",
                  "interpolation-within/interpolate.json", "adaptive/figures/curves.png"],
    "report003": ["dcgan/figures/eval.png", "dcgan/samples/epoch_0003.png"],
    "report004": ["cdcgan/eval.json", "no-l1/eval.json", "cdcgan/samples/epoch_0002.png"],
}


def test_every_study_file_has_the_three_scales_and_valid_steps():
    files = sorted(STUDIES.glob("report*.yaml"))
    assert [f.stem for f in files] == sorted(ARTEFACTS)
    for f in files:
        study = load_study(f)
        assert set(study.scales) == set(SCALES), f
        for step in study.steps:
            for scale in step.only:
                assert step_command(study, step, scale, Path("/s"), STUDIES.parent)[0] in (
                    "train", "sweep", "eval", "explore", "matrix", "classifier"), (f, step.name)


@pytest.mark.parametrize("name", sorted(ARTEFACTS))
def test_study_runs_at_tiny_scale_and_continues(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # study files find their configs from anywhere
    out = tmp_path / name
    args = ["study", str(STUDIES / f"{name}.yaml"), "--scale", "tiny", "--out", str(out)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    for artefact in ARTEFACTS[name]:
        assert (out / artefact).is_file(), artefact
    record = json.loads((out / "steps.json").read_text())
    ran = [s.name for s in load_study(STUDIES / f"{name}.yaml").steps if "tiny" in s.only]
    assert list(record["steps"]) == ran and record["scale"] == "tiny"
    page = (out / "index.html").read_text()
    assert page.count("<section") == len(ran) + 1 and "data:image/png;base64," in page
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and again.output.count("done before") == len(ran)
    with pytest.raises(GanlabError, match="holds the tiny scale"):
        from ganlab.cli.studies import run_study

        run_study(STUDIES / f"{name}.yaml", "cpu", out)
