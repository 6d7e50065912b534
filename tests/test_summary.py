"""The README's verdicts block is the one the published studies' findings.json give (one fact, one place)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganlab.errors import GanlabError
from ganlab.studies.summary import (
    END,
    LONGER_BUDGET,
    START,
    main,
    replace_block,
    seeds_needed_line,
    summary_block,
    trained_on,
)

REPO = Path(__file__).resolve().parents[1]


def _row(fid: str, verdict: str, measured: float | None = 1.0) -> dict:
    return {"id": fid, "claim": f"claim {fid}", "report": "Fig. 1", "verdict": verdict, "measured": measured,
            "ci_low": 0.5, "ci_high": 1.5, "seeds": 3, "metric": "cfd2k_test"}


def test_the_block_counts_decided_rows_and_lists_each_study(tmp_path):
    for name, rows, seconds in (("report000", [_row("A", "reproduced"), _row("B", "inconclusive")], 600),
                                ("report001", [_row("C", "not reproduced"), _row("D", "inconclusive (not measured)",
                                                                                  None)], 1200)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "findings.json").write_text(json.dumps(rows))
        (tmp_path / name / "steps.json").write_text(json.dumps({"study": f"studies/{name}.yaml", "scale": "cpu",
                                                                "steps": {"a": {"seconds": seconds}}}))
    (tmp_path / "unpublished").mkdir()
    block = summary_block(tmp_path, tmp_path)
    assert "The seeds each finding would need" not in block  # B's row predates the projection
    assert block.startswith(START) and block.endswith(END)
    assert "4 findings, 2 decided (50%)" in block
    assert "| [C](report001/findings.md) | claim C | Fig. 1 | 1 [0.5, 1.5] (cfd2k_test) | 3 | not reproduced |" in block
    assert "| not measured | 3 | inconclusive (not measured) |" in block
    assert "- `ganlab study studies/report001.yaml --scale cpu --data-root DATA`: 20 min here" in block
    assert "(its `steps.json`); 1 not reproduced, 1 inconclusive (not measured); evidence in" in block
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{START}\nold\n{END}\ntail\n")
    assert main([str(tmp_path), str(readme)]) == 0
    assert readme.read_text() == f"# x\n{summary_block(tmp_path, tmp_path)}\ntail\n"
    with pytest.raises(GanlabError, match="has no <!-- verdicts: start -->"):
        replace_block("no markers", block, "README.md")
    with pytest.raises(GanlabError, match="no study under"):
        summary_block(tmp_path / "unpublished")


def test_the_seeds_needed_line_lists_inside_spread_rows_fewest_seeds_first():
    rows = [{**_row("A", "inconclusive"), "seeds_to_decide": 40}, {**_row("B", "inconclusive"), "seeds_to_decide": 9},
            {**_row("C", "inconclusive"), "seeds_to_decide": None}, {**_row("D", "inconclusive (still changing)")},
            _row("E", "reproduced"), _row("F", "inconclusive"),  # F: a findings.json from before the projection
            {**_row("G", "inconclusive (still changing)"), "seeds_to_decide": 4}]
    assert seeds_needed_line(rows).endswith("; inconclusive: B 9, A 40, C over 1000; still changing between a decided "
                                            "and an inconclusive measurement: G 4.")
    assert seeds_needed_line(rows[3:6]) == ""


def test_the_trained_on_column_gives_the_verdict_settled_at_the_longer_budgets_last_two_measurements(tmp_path):
    (tmp_path / "report000").mkdir()
    (tmp_path / "report000" / "findings.json").write_text(json.dumps([_row("A", "not reproduced"), _row("B", "x"),
                                                                      _row("C", "reproduced")]))
    results = tmp_path / "results"
    results.mkdir()
    for fid, verdicts in (("A", ["not reproduced", "reproduced", "reproduced"]), ("B", ["reproduced", "inconclusive"])):
        (results / LONGER_BUDGET.format(id=fid)).write_text(json.dumps({
            "steps": 9370, "study_budget": 4685, "seeds": [0, 1, 2, 3],
            "measurements": [{"iteration": i, "verdict": v} for i, v in enumerate(verdicts)]}))
    assert trained_on(results, "A") == "reproduced at 2x, 4 seeds"
    assert trained_on(results, "B") == "inconclusive (still changing) at 2x, 4 seeds"
    assert trained_on(results, "C") == ""
    block = summary_block(tmp_path, tmp_path, results)
    assert "| seeds | verdict | trained on past the hour |" in block and "|---|---|---|---|---|---|---|" in block
    assert "| 3 | not reproduced | reproduced at 2x, 4 seeds |" in block and "| 3 | reproduced | - |" in block
    assert "its record in `results/`" in block
    assert "trained on past the hour" not in summary_block(tmp_path, tmp_path)


def test_the_readme_shows_the_published_verdicts():
    readme = (REPO / "README.md").read_text()
    assert summary_block(REPO / "docs" / "studies", REPO, REPO / "benchmarks" / "results") in readme, (
        "README's verdicts block is out of date: "
        "python -m ganlab.studies.summary docs/studies README.md --trained-on benchmarks/results")
