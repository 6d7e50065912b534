"""Every ``ganlab ...`` command line in a fenced code block of README.md and docs/*.md parses.

``ganlab train`` lines run in-process with ``--dry-run`` added (the resolved config is printed, nothing trains and no
data is read). Every other line is parsed without running: click's ``make_context`` on the ``ganlab`` group, then on
each sub-command the group resolves, checks the verb, every option name, option values' types and choices, and the
arguments. Paths a command needs to exist (a run folder, a latent file) are created in a temporary folder, which is
the current directory while parsing; the repository's configs/, studies/ and benchmarks/ are linked into it, and a
file named in them must really be there.

Placeholders written in capitals (RUN_DIR, DATA, ...) are taken as names like any other: DATA becomes a temporary
data folder; the others are created where the command needs them to exist. No line is skipped.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from cli_helpers import LINKED, parse_command
from click.testing import CliRunner

from ganlab.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*(```|~~~)\s*(\w*)")
SHELL = ("", "bash", "sh", "shell", "console")  # fenced blocks whose lines are commands (not python, not text)
START = re.compile(r"^\s*(?:ganlab\s|\S.*\s-m\s+ganlab\s)")  # "ganlab VERB", "torchrun ... -m ganlab VERB"


def documented_commands() -> list[tuple[str, int, list[str]]]:
    """(file, line number, arguments after ``ganlab``) of every ganlab command line in a fenced block."""
    found = []
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        inside, shell = False, False
        i = 0
        while i < len(lines):
            line, number = lines[i], i + 1
            i += 1
            fence = FENCE.match(line)
            if fence:
                inside = not inside
                shell = inside and fence.group(2) in SHELL
                continue
            if not shell or not START.match(line):
                continue
            while line.rstrip().endswith("\\") and i < len(lines):  # a command continued on the next line
                line = line.rstrip()[:-1] + " " + lines[i].strip()
                i += 1
            words = shlex.split(line, comments=True)  # drops a trailing "# comment"
            found.append((path.relative_to(ROOT).as_posix(), number, words[words.index("ganlab") + 1:]))
    return found


COMMANDS = documented_commands()


def test_the_docs_hold_ganlab_commands():
    files = {f for f, _, _ in COMMANDS}
    assert "README.md" in files and len(COMMANDS) > 40, (files, len(COMMANDS))


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    """A current directory with the repository's folders linked in, and a data folder for DATA."""
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    data = tmp_path / "data-root"
    data.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANLAB_DATA", str(data))  # --data-root's callback changes it: restored after the test
    monkeypatch.setenv("GANLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # ~/... in a command stays inside the temporary folder
    return tmp_path


def _resolve(words: list[str], data: Path) -> list[str]:
    return [str(data) if w == "DATA" else w for w in words]


@pytest.mark.parametrize("where,number,words", COMMANDS,
                         ids=[f"{f}:{n}" for f, n, _ in COMMANDS])
def test_documented_command_parses(workdir, where, number, words):
    words = _resolve(words, workdir / "data-root")
    line = f"{where}:{number}: ganlab {shlex.join(words)}"
    if words[:1] == ["train"] and "--resume" not in words:
        result = CliRunner().invoke(main, [*words, "--dry-run"])
        assert result.exit_code == 0, f"{line}\n{result.output}{result.exception!r}"
        assert "data:" in result.output, f"{line}\n{result.output}"
        return
    # --resume reads the run folder's saved config even with --dry-run, so it is parsed like the other verbs
    missing = [w for w in words if w.split("/")[0] in LINKED and Path(w).suffix and not (ROOT / w).exists()]
    assert not missing, f"{line}\nnot in the repository: {', '.join(missing)}"
    try:
        parse_command(words)
    except click.exceptions.Exit:  # --help or --version: parsed
        pass
    except click.ClickException as e:
        pytest.fail(f"{line}\n{e.format_message()}")
