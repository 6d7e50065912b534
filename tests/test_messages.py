"""What ganlab tells its users: every option or config key an error message names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click

from ganlab.cli import main
from ganlab.config import Config, flatten, to_dict

PACKAGE = Path(__file__).resolve().parents[1] / "ganlab"
MESSAGE_CALLS = {"GanlabError", "TrainingDiverged", "warn"}  # what carries a message to the user
OTHER_TOOLS = {"--nproc_per_node"}  # torchrun's, named where ganlab says how to resume under torchrun


def _options(command: click.Command) -> set[str]:
    names = {opt for p in command.params for opt in getattr(p, "opts", [])}
    for sub in getattr(command, "commands", {}).values():
        names |= _options(sub)
    return names


def _message_texts() -> list[tuple[str, str]]:
    """(file:line, text) of every string literal inside a call that raises or prints a user message."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in MESSAGE_CALLS:
                for const in ast.walk(node):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        out.append((f"{path.relative_to(PACKAGE)}:{node.lineno}", const.value))
    return out


def test_every_option_a_message_names_exists():
    options = _options(main) | OTHER_TOOLS
    texts = _message_texts()
    assert len(texts) > 100  # the scan sees the package's messages
    unknown = [(where, flag) for where, text in texts for flag in re.findall(r"--[a-z][a-z0-9_-]*", text)
               if flag not in options]
    assert not unknown, unknown


def test_every_config_key_a_message_names_exists():
    keys = set(flatten(to_dict(Config())))
    key_like = re.compile(r"(?<![\w.])(?:data|model|train|eval)\.[a-z_.]*[a-z_]")  # not module paths (ganlab.data.x)
    named = [(where, key) for where, text in _message_texts() for key in key_like.findall(text)]
    unknown = [(where, key) for where, key in named if key not in keys]
    assert len(named) > 20 and not unknown, unknown


def test_eval_refuses_a_negative_sample_count_in_one_line(explore_run):
    from click.testing import CliRunner

    from ganlab.cli import main

    result = CliRunner().invoke(main, ["eval", str(explore_run), "--n", "-5"])
    assert result.exit_code == 2 and "Invalid value for '--n': -5 is not in the range x>=1" in result.output
    assert "Traceback" not in result.output
