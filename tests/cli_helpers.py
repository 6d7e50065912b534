"""Parsing a ganlab command line as click would before running it, without running it (documented commands,
study steps)."""

from __future__ import annotations

from pathlib import Path

import click

from ganlab.cli import main

LINKED = ("configs", "studies", "benchmarks")  # repository folders that commands name: they must really exist


def _create_needed_paths(command: click.Command, ctx: click.Context, args: list[str]) -> None:
    """Create the files and folders that ``command``'s click.Path(exists=True) parameters name in ``args``."""
    parser = command.make_parser(ctx)
    parser.ignore_unknown_options = True
    opts, _, _ = parser.parse_args(list(args))
    for param in command.params:
        kind = param.type
        if not (isinstance(kind, click.Path) and kind.exists) or opts.get(param.name) is None:
            continue
        values = opts[param.name]
        for value in values if isinstance(values, (list, tuple)) else [values]:
            path = Path(str(value)).expanduser()
            if path.exists() or path.parts[:1] in [(name,) for name in LINKED]:  # the repository's own must exist
                continue
            if kind.file_okay and (not kind.dir_okay or path.suffix):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            else:
                path.mkdir(parents=True)


def _parse(command: click.Command, name: str, args: list[str], parent: click.Context | None) -> None:
    """Parse ``args`` as click would before running ``command``, down through group sub-commands."""
    probe = click.Context(command, info_name=name, parent=parent)
    _create_needed_paths(command, probe, args)
    ctx = command.make_context(name, list(args), parent=parent)
    if isinstance(command, click.Group):
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # click >= 8.2 keeps the sub-command there
        assert rest, f"{name}: no sub-command given"
        sub_name, sub, sub_args = command.resolve_command(ctx, rest)
        _parse(sub, sub_name, sub_args, ctx)


def parse_command(words: list[str]) -> None:
    """Parse ``ganlab WORDS`` down through its sub-commands; raises click's exception on a bad line."""
    _parse(main, "ganlab", words, None)
