"""Each report's study file runs end to end at its tiny scale (digits, a few steps), writes the artefacts the
report shows and one page, and a second run continues instead of starting over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from cli_helpers import parse_command
from click.testing import CliRunner

from ganlab.cli import main
from ganlab.cli.base import run_command
from ganlab.errors import GanlabError
from ganlab.folders import RunDir, StudyDir
from ganlab.studies.engine import run_study
from ganlab.studies.spec import POINT, SCALES, load_study, step_command
from ganlab.sweeps.results import read_results

STUDIES = Path(__file__).resolve().parents[1] / "studies"
ARTEFACTS = {  # files per study that say the report's main result was produced (the folder classes name them)
    "report000": lambda s: [s.sweep("latent").metric_vs_key("cfd200_test", "model.z_dim"),
                            s.sweep("latent").floor("floor_cfd200_test"), s.step("matrix") / "matrix.md",
                            s.step("latent-space-2d") / "latent_map.json"],
    "report001": lambda s: [s.sweep("grid").grid_table("cfd100_test", ".md"), s.sweep("grid").d_outputs,
                            s.step("interpolation-tiny") / "interpolate.json"],
    "report002": lambda s: [s.sweep("advantage").grid_table("acc100", ".md"), s.step("d-accuracy") / "d_accuracy.md",
                            s.step("real-vs-generated") / "real_vs_fake.png",
                            s.step("interpolation-within") / "interpolate.json", RunDir(s.step("adaptive")).curves],
    "report003": lambda s: [s.sweep("dcgan").over_training("fid50_test100"), s.sweep("dcgan").d_outputs,
                            s.sweep("dcgan").over_training("checker50_test100")],
    "report004": lambda s: [s.sweep("l1").metric_vs_key("cfd100_test", "train.l1_weight"),
                            s.sweep("plain").over_training("cfd100_test"), s.sweep("l1").d_outputs],
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


END_TO_END = "report001"  # one study runs end to end in the default suite; the others in the slow tier (-m slow)


def test_every_step_command_parses_at_every_scale(tmp_path, monkeypatch):
    """Each step's resolved command line (a {point:...} stands for a run folder) is one the CLI accepts."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").symlink_to(STUDIES.parent / "configs", target_is_directory=True)
    run = tmp_path / "a-run"
    run.mkdir()
    for path in sorted(STUDIES.glob("report*.yaml")):
        study = load_study(path)
        for step in study.steps:
            for scale in step.only:
                command = step_command(study, step, scale, tmp_path / "s", STUDIES.parent)
                args = [POINT.sub(str(run), a) for a in command]
                try:
                    parse_command(args)
                except click.ClickException as e:
                    pytest.fail(f"{path.name} step {step.name} at {scale}: {e.format_message()}")


@pytest.mark.parametrize("name", [n if n == END_TO_END else pytest.param(n, marks=pytest.mark.slow)
                                  for n in sorted(ARTEFACTS)])
def test_study_runs_at_tiny_scale_and_continues(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # study files find their configs from anywhere
    out = StudyDir(tmp_path / name)
    args = ["study", str(STUDIES / f"{name}.yaml"), "--scale", "tiny", "--out", str(out.path)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    for artefact in ARTEFACTS[name](out):
        assert artefact.is_file(), artefact
    record = out.read_steps()
    ran = [s.name for s in load_study(STUDIES / f"{name}.yaml").steps if "tiny" in s.only]
    assert list(record["steps"]) == ran and record["scale"] == "tiny"
    assert {"torch", "python", "cpu_count", "cpu_model"} <= set(record["steps"][ran[0]]["environment"])
    page = out.page.read_text()
    findings = load_study(STUDIES / f"{name}.yaml").findings
    if findings:  # one seed at the tiny scale: every finding is written, none decided
        rows = json.loads(out.findings_json.read_text())
        assert [r["id"] for r in rows] == [f.id for f in findings]
        assert record["verdicts"].keys() == {r["id"] for r in rows}
        assert all(r["verdict"].startswith("inconclusive") and r["seeds"] <= 1 for r in rows)  # 0: not measured
        assert "Verdicts" in page and out.findings_md.is_file()
    assert page.count("<section") == len(ran) + 1 + bool(findings) and "data:image/png;base64," in page
    again = CliRunner().invoke(main, args + ["--docs", str(tmp_path / "docs")])
    assert again.exit_code == 0 and again.output.count("done before") == len(ran)
    copied = {p.name for p in (tmp_path / "docs").iterdir()}
    expected = [out.steps, *([out.findings_md, out.findings_json] if findings else [])]
    assert {p.name for p in expected} <= copied
    published = (tmp_path / "docs" / out.steps.name).read_text()  # names no folder of this machine
    assert str(STUDIES.resolve().parent) not in published and "{root}" in published
    assert any(name.endswith(".png") for name in copied)
    with pytest.raises(GanlabError, match="holds the tiny scale"):
        run_study(STUDIES / f"{name}.yaml", "cpu", out.path, run_command=lambda args: None)


KILL_STUDY = """
title: kill -9 test
scales:
  full: []
  cpu: []
  tiny: [data.name=digits, model.g_width=8, model.d_width=8, train.batch_size=32, train.steps=40, train.epochs=0,
         train.checkpoint_every=5, train.log_every=5, device=cpu]
steps:
  - name: sweep
    command: [sweep, "model.z_dim=2,4", "seed=0,1", --out, "{out}"]
  - name: interpolation
    command: [explore, "{point:sweep model.z_dim=4 seed=1}", interpolate, --steps, "3", --pairs, "1", --out, "{out}"]
"""
COMPARED = ("step", "loss_d", "loss_g", "d_real", "d_fake", "acc_real", "acc_fake")  # what a result row trains to


def _study(study_file: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ganlab", "study", str(study_file), "--scale", "tiny", "--out",
                             str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _trained(out: StudyDir) -> list[dict]:
    return [{k: row.get(k) for k in ("point", *COMPARED)} for row in read_results(out.sweep("sweep").path)]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker processes from /proc (Linux)")
def test_a_study_killed_mid_training_and_run_again_ends_as_one_run_straight_through(tmp_path):
    """kill -9 of ``ganlab study`` while its sweep trains points in parallel worker processes (the default backend
    on a CPU with 2 cores): the workers die with it, and the study run again (in this process, without workers to
    start) ends as one run straight through."""
    study_file, sequential = tmp_path / "kill.yaml", tmp_path / "straight.yaml"
    study_file.write_text(KILL_STUDY)
    sequential.write_text(KILL_STUDY.replace('"seed=0,1",', '"seed=0,1", --backend, sequential,'))
    assert "sequential" in sequential.read_text()
    straight, cut = StudyDir(tmp_path / "straight"), StudyDir(tmp_path / "cut")
    run_study(sequential, "tiny", straight.path, run_command=run_command)  # in this process, no workers to start
    proc = _study(study_file, cut.path)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:  # kill once a point has checkpointed mid-run
        runs = cut.sweep("sweep").run_dirs()
        if any(RunDir(r).has_checkpoint() and RunDir(r).state() == "running" for r in runs[1:]):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the study ended before it could be killed"
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    assert len(workers) >= 2 and not [w for w in workers if _alive(w)]  # the parallel workers died with it
    runs = [RunDir(r) for r in cut.sweep("sweep").run_dirs()]
    assert any(r.state() == "running" and r.has_checkpoint() for r in runs)  # cut between two checkpoints
    assert "sweep" not in cut.read_steps().get("steps", {})
    run_study(sequential, "tiny", cut.path, run_command=run_command)  # run again, here, one point after another
    assert _trained(cut) == _trained(straight) and len(_trained(cut)) == 4
    assert all(row["step"] == 40 for row in _trained(cut))
    assert list(cut.read_steps()["steps"]) == ["sweep", "interpolation"]
    a, b = (json.loads((s.step("interpolation") / "interpolate.json").read_text()) for s in (straight, cut))
    assert a["figures"] == b["figures"]


def test_a_study_file_that_is_not_yaml_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nsteps:\n  - name: a\n    command: [train, --x\n  - oops: {\n")
    result = CliRunner().invoke(main, ["study", str(bad), "--scale", "tiny", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"error: study file {bad} is not valid YAML at line ")
    bad.write_text("- just\n- a list\n")
    result = CliRunner().invoke(main, ["study", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "is not a YAML mapping; it must be a mapping with title and steps" in result.output


def test_a_finding_measured_at_an_unknown_scale_is_refused(tmp_path):
    study_file = tmp_path / "study.yaml"
    study_file.write_text("title: t\nscales: {full: [], cpu: [], tiny: []}\nsteps:\n  - name: one\n"
                          "    command: [eval, x]\nfindings:\n  - {id: F1, claim: c, report: r, rule: value, "
                          "step: one, metric: fid, only: [gpu]}\n")
    result = CliRunner().invoke(main, ["study", str(study_file), "--scale", "tiny", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "finding F1" in result.output and "unknown scale(s) ['gpu']" in result.output


def test_a_step_that_failed_counts_its_time_when_run_again(tmp_path):
    study_file = tmp_path / "study.yaml"
    study_file.write_text("title: t\nscales: {full: [], cpu: [], tiny: []}\nsteps:\n"
                          "  - name: one\n    command: [eval, x]\n")
    out = StudyDir(tmp_path / "out")

    def failing(args):
        time.sleep(0.2)
        raise GanlabError("stopped")

    with pytest.raises(GanlabError, match="stopped"):
        run_study(study_file, "tiny", out.path, run_command=failing)
    assert out.read_steps()["interrupted"]["one"]["seconds"] >= 0.2 and "one" not in out.read_steps()["steps"]
    record = run_study(study_file, "tiny", out.path, run_command=lambda args: None)
    assert record["steps"]["one"]["seconds"] >= 0.2 and record["steps"]["one"]["earlier_seconds"] >= 0.2
    assert record["interrupted"] == {}


@pytest.mark.parametrize("verb, kept, counted", [("sweep", True, True), ("sweep", False, False), ("eval", True, False)])
def test_a_sweep_step_run_again_under_another_command_counts_its_earlier_time(tmp_path, verb, kept, counted):
    """More seeds for a finished sweep step: the sweep continues from the points it kept, so the step's seconds
    include the first run's; a step that starts over (another verb, or its folder gone) counts only its new run."""
    study_file = tmp_path / "study.yaml"
    out = StudyDir(tmp_path / "out")

    def study(seeds: str) -> None:
        study_file.write_text(f"title: t\nscales: {{full: [], cpu: [], tiny: []}}\nsteps:\n"
                              f"  - name: one\n    command: [{verb}, x, 'seed={seeds}']\n")

    def slow(args):
        (out.path / "one").mkdir(exist_ok=True)
        time.sleep(0.2)

    study("0,1")
    first = run_study(study_file, "tiny", out.path, run_command=slow)["steps"]["one"]["seconds"]
    if not kept:
        (out.path / "one").rmdir()
    study("0,1,2")
    again = run_study(study_file, "tiny", out.path, run_command=slow)["steps"]["one"]
    assert again["earlier_seconds"] == (pytest.approx(first) if counted else 0.0)
    assert again["seconds"] >= (first + 0.2 if counted else 0.2)
