"""Hints in the caller's language: `overwrite=True` from Python, `--overwrite` from the CLI.

Errors are raised by code both faces share, so a hint is written once. `GroundtruthError`
puts every hint into the API's words (`api`); the CLI turns them into its flags when it shows
the error (`cli`). Only phrases that have a flag are translated; everything else is the same
in both.
"""

from __future__ import annotations

import re

# CLI phrase -> API phrase, for the flags every writing verb has
_FLAGS = (("--overwrite", "overwrite=True"), ("--allow-loss", "allow_loss=True"))
# reading options the hints name (`image_root=...`): `-o image_root=...` on the command line
_READ_OPTION = re.compile(r"(?<![\w-])(image_root|guideline)=")


def api(hint: str) -> str:
    """A hint as a Python caller reads it: keyword arguments, not flags."""
    for flag, kwarg in _FLAGS:
        # "pass --overwrite (overwrite=True)" and "overwrite=True (--overwrite)" say it twice
        hint = hint.replace(f"{flag} ({kwarg})", kwarg).replace(f"{kwarg} ({flag})", kwarg)
        hint = re.sub(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", kwarg, hint)
    return hint


def cli(hint: str) -> str:
    """A hint as a command-line user reads it: flags and `-o key=value`."""
    hint = api(hint)
    for flag, kwarg in _FLAGS:
        hint = hint.replace(kwarg, flag)
    return _READ_OPTION.sub(r"-o \1=", hint)
