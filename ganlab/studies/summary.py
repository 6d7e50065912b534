"""The verdicts of every study published under a docs folder, as the Markdown block the README shows.

    python -m ganlab.studies.summary docs/studies            # print the block
    python -m ganlab.studies.summary docs/studies README.md  # replace the block between its markers in README.md
    python -m ganlab.studies.summary docs/studies README.md --trained-on benchmarks/results

Each ``docs/studies/NAME/`` holds what ``ganlab study ... --docs`` copied: ``steps.json`` (the commands, their
wall times) and ``findings.json`` (a row per finding). The block is one table of all verdicts, then one line per
study: its command, its wall time here, its verdicts counted, where its evidence is; then the seeds each open
finding would need. With --trained-on, the table also gives each finding's verdict trained on past its study's
budget, where ``benchmarks/longer_budget.py`` left a record of it in that folder.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from ganlab.errors import GanlabError
from ganlab.folders import StudyDir, read_json
from ganlab.io import atomic_write_text
from ganlab.studies.engine import total_seconds
from ganlab.studies.findings import measured_text
from ganlab.studies.verdicts import INCONCLUSIVE, MAX_PROJECTED_SEEDS, POWER, STILL_CHANGING, VERDICTS

START, END = "<!-- verdicts: start -->", "<!-- verdicts: end -->"  # the block's markers in the README
DECIDED = ("reproduced", "not reproduced")
LONGER_BUDGET = "longer_budget-{id}.json"  # benchmarks/longer_budget.py's record of a finding trained on


def _studies(docs: Path) -> list[tuple[Path, dict[str, Any], list[dict[str, Any]]]]:
    """(folder, steps.json, findings.json rows) of each published study that has findings, by name."""
    found = []
    for folder in sorted(p for p in docs.iterdir() if p.is_dir()):
        study = StudyDir(folder)
        rows = read_json(study.findings_json)
        if rows:
            found.append((folder, study.read_steps(), rows))
    return found


def verdict_counts(rows: list[dict[str, Any]]) -> str:
    """How many rows have each verdict, in the order of ``verdicts.VERDICTS``: "2 reproduced, 1 inconclusive"."""
    counts = Counter(r["verdict"] for r in rows)
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])


def seeds_needed_line(rows: list[dict[str, Any]]) -> str:
    """One line on the seeds that would decide the inconclusive rows (inside the seed spread) and settle the still
    changing rows that seeds can settle, or "" if none (rows of a findings.json written before verdicts projected
    seeds are left out)."""
    inside = [r for r in rows if r["verdict"] == INCONCLUSIVE and "seeds_to_decide" in r]
    changing = [r for r in rows if r["verdict"] == STILL_CHANGING and r.get("seeds_to_decide")]
    if not inside and not changing:
        return ""

    def listed(found: list[dict[str, Any]]) -> str:
        needs = sorted(found, key=lambda r: r.get("seeds_to_decide") or MAX_PROJECTED_SEEDS + 1)
        return ", ".join(f"{r['id']} {r['seeds_to_decide']}" if r.get("seeds_to_decide")
                         else f"{r['id']} over {MAX_PROJECTED_SEEDS}" for r in needs)

    parts = [f"inconclusive: {listed(inside)}"] if inside else []
    parts += [f"still changing between a decided and an inconclusive measurement: {listed(changing)}"] if changing \
        else []
    return (f"The seeds each finding would need for a verdict with {POWER * 100:g} % chance if its measured mean and "
            f"spread held (in its `findings.md`); {'; '.join(parts)}.")


def trained_on(results: Path, finding_id: str) -> str:
    """The finding's verdict at the last two measurements of its longer budget (``LONGER_BUDGET`` in ``results``),
    as "reproduced at 2x, 4 seeds"; "" where it was not trained on."""
    record = read_json(results / LONGER_BUDGET.format(id=finding_id))
    if not record:
        return ""
    last = [m["verdict"] for m in record["measurements"][-2:]]
    verdict = last[-1] if len(last) == 2 and last[0] == last[1] else STILL_CHANGING
    return f"{verdict} at {record['steps'] / record['study_budget']:.2g}x, {len(record['seeds'])} seeds"


def summary_block(docs: Path, link_root: Path = Path("."), results: Path | None = None) -> str:
    """The Markdown block: the verdicts table and a line per study (links relative to ``link_root``); with
    ``results``, a column of each finding's verdict trained on past its budget (``trained_on``)."""
    studies = _studies(docs)
    if not studies:
        raise GanlabError(f"no study under {docs} has a findings.json; publish one with ganlab study ... --docs DIR")
    rows = [row for _, _, found in studies for row in found]
    decided = sum(r["verdict"] in DECIDED for r in rows)
    lines = [START, "", f"{len(rows)} findings, {decided} decided ({decided / len(rows):.0%}); each verdict from "
             f"its study's seeds (mean and 95 % interval, paired by seed) at the cpu scale, as in its `findings.md`.",
             "", "| finding | claim | report | measured here [95 % CI] | seeds | verdict |"
             + (" trained on past the hour |" if results else ""), "|---|---|---|---|---|---|"
             + ("---|" if results else "")]

    def shown(path: Path) -> Path:
        return path.relative_to(link_root) if path.is_relative_to(link_root) else path

    where = {folder: shown(folder) for folder, _, _ in studies}
    for folder, _, found in studies:
        lines += [f"| [{r['id']}]({where[folder] / 'findings.md'}) | {r['claim']} | {r['report']} | "
                  f"{measured_text(r)} | {r['seeds']} | {r['verdict']} |"
                  + (f" {trained_on(results, r['id']) or '-'} |" if results else "") for r in found]
    lines.append("")
    for folder, steps, found in studies:
        minutes = (total_seconds(steps) or 0.0) / 60
        command = f"ganlab study {steps.get('study', '?')} --scale {steps.get('scale', '?')} --data-root DATA"
        lines.append(f"- `{command}`: {minutes:.0f} min here (its `steps.json`); {verdict_counts(found)}; evidence "
                     f"in [{where[folder]}/]({where[folder]}/)")
    if results:
        lines += ["", f"*Trained on past the hour*: the verdict at the last two measurements of a longer budget "
                      f"(`benchmarks/longer_budget.py`, its record in `{shown(results).as_posix()}/`), as a multiple "
                      f"of the study's iterations, on the seeds given; `-` where the finding was not trained on."]
    if needed := seeds_needed_line(rows):
        lines += ["", needed]
    return "\n".join([*lines, "", END])


def replace_block(text: str, block: str, where: str) -> str:
    """``text`` with the part between the markers (included) replaced by ``block``."""
    if START not in text or END not in text:
        raise GanlabError(f"{where} has no {START} ... {END} block; add the two markers where the table goes")
    head, rest = text.split(START, 1)
    return head + block + rest.split(END, 1)[1]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m ganlab.studies.summary", description=__doc__.splitlines()[0])
    ap.add_argument("docs", type=Path, help="the folder of published studies (docs/studies)")
    ap.add_argument("readme", type=Path, nargs="?", help="replace the block in this file (else print it)")
    ap.add_argument("--trained-on", type=Path, help="the folder of benchmarks/longer_budget.py's records")
    args = ap.parse_args(argv)
    if args.readme is None:
        print(summary_block(args.docs, results=args.trained_on))
        return 0
    block = summary_block(args.docs, args.readme.parent, args.trained_on)
    atomic_write_text(args.readme, replace_block(args.readme.read_text(), block, str(args.readme)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
