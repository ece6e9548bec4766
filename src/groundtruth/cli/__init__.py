"""The `gt` / `groundtruth` command line: a thin face over the functions of the API.

Exit codes: 0 ok, 1 invalid data (or a gate failed), 2 usage or I/O error. Errors print what,
where and what to do, never a traceback (set GROUNDTRUTH_DEBUG=1 to see one).
"""

from __future__ import annotations

import os
import sys
import warnings

import click

from .. import __version__
from .._inert import plain
from .._voice import cli as voice_cli
from ..errors import GroundtruthError
from ..io._access import access_error
from ._common import EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="groundtruth")
def cli() -> None:
    """groundtruth: validate, diff, convert and measure labeled ML data."""


def _register() -> None:
    from ._adjudicate import adjudicate_cmd
    from ._agreement import agreement_cmd, consensus_cmd
    from ._convert import convert_cmd, formats_cmd
    from ._diff import diff_cmd
    from ._evaluate import evaluate_cmd
    from ._export import export_cmd
    from ._guideline import guideline_cmd
    from ._info import info_cmd
    from ._log import log_cmd
    from ._merge import merge_cmd
    from ._publish import card_cmd, croissant_cmd
    from ._review import review_cmd
    from ._sample import sample_cmd
    from ._schema import schema_cmd
    from ._suspects import suspects_cmd
    from ._validate import validate_cmd

    for cmd in (info_cmd, convert_cmd, formats_cmd, schema_cmd, validate_cmd, diff_cmd,
                agreement_cmd, consensus_cmd, adjudicate_cmd, guideline_cmd, review_cmd,
                export_cmd, evaluate_cmd, suspects_cmd, sample_cmd, card_cmd, croissant_cmd,
                merge_cmd, log_cmd):
        cli.add_command(cmd)


_register()


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: object = None, line: str | None = None) -> None:
    """Warnings as one line on stderr ("warning: ..."), not Python's source-line format."""
    click.echo(f"warning: {message}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI, turning expected errors into messages and exit 2."""
    from ..io._publish import published
    from ._signals import handle_termination, interrupted_exit

    before = len(published())
    with handle_termination(), warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            rv = cli.main(args=argv, prog_name="gt", standalone_mode=False)
        except (click.exceptions.Abort, KeyboardInterrupt):
            sys.exit(interrupted_exit(before))
        except click.ClickException as exc:
            # it may quote a path or value from the data; `message` is Final to type checkers,
            # a plain instance attribute at run time
            vars(exc)["message"] = plain(exc.message, multiline=True)
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except GroundtruthError as exc:
            if os.environ.get("GROUNDTRUTH_DEBUG"):
                raise
            if exc.hint:
                exc.hint = voice_cli(exc.hint)
            click.echo(f"error: {plain(exc, multiline=True)}", err=True)
            sys.exit(EXIT_USAGE)
        except (OSError, UnicodeDecodeError, MemoryError, Exception) as exc:
            # Storage and memory failures the commands did not name themselves (a store that
            # stops answering halfway, botocore's credential errors): a message, exit 2.
            # Anything else is a bug and keeps its traceback.
            mapped = access_error(exc) if not isinstance(exc, UnicodeDecodeError) else None
            if os.environ.get("GROUNDTRUTH_DEBUG") or (
                mapped is None and not isinstance(exc, OSError | UnicodeDecodeError)
            ):
                raise
            click.echo(f"error: {plain(mapped or exc, multiline=True)}", err=True)
            sys.exit(EXIT_USAGE)
    sys.exit(rv if isinstance(rv, int) else 0)
