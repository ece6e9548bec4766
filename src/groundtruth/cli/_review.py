"""`gt review`: the local review app over a dataset's disputed items."""

from __future__ import annotations

import getpass
import os

import click

from ._common import EXIT_OK, from_option, load_for_command, working


def _default_log(path: str) -> str | None:
    if "://" in path or not os.path.isdir(path):
        return None
    return os.path.normpath(path) + ".decisions.jsonl"


@click.command("review")
@click.argument("path")
@click.option("--decisions", "log", metavar="FILE", default=None,
              help="The decisions log to append to (and resume from). Default: "
                   "PATH.decisions.jsonl next to a local dataset folder.")
@click.option("--out", default=None, metavar="DIR",
              help="Where Finish writes the adjudicated dataset (as `gt adjudicate` would).")
@click.option("--reviewer", default=None, metavar="ID",
              help="Who decides (recorded in every decision). Default: the login name.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback requires the printed access token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--media-root", default=None, metavar="DIR",
              help="Folder the items' relative image URIs are read from (default: the "
                   "dataset folder). Nothing outside it is read.")
@click.option("--all", "include_all", is_flag=True,
              help="Queue every item, not only the disputed ones (disputed first).")
@click.option("--label-set", default=None, metavar="NAME",
              help="Rank disputes on this label set only.")
@from_option
def review_cmd(path: str, log: str | None, out: str | None, reviewer: str | None, host: str,
               port: int, media_root: str | None, include_all: bool, label_set: str | None,
               from_format: str | None, read_options: tuple[str, ...]) -> int:
    """Review PATH's disputed items in the browser: every annotator's version side by side;
    accept one, relabel it, keep regions or spans picked from several, adjust a span's
    boundaries, or mark the guideline unclear with a note.

    Every decision is appended to the decisions log at once (fsync'd), so a session survives a
    crash and resumes where it stopped. Finish (or `gt adjudicate PATH LOG OUT`) writes the
    adjudicated dataset. Stop the server with Ctrl-C.
    """
    from ..review import ReviewServer, ReviewSession

    log = log or _default_log(path)
    if log is None:
        raise click.UsageError("give --decisions FILE (PATH is not a local dataset folder)")
    if media_root is None and os.path.isdir(path):
        media_root = path
    who = reviewer or os.environ.get("GT_REVIEWER") or getpass.getuser() or "reviewer"
    ds = load_for_command(path, from_format, read_options)
    with working("ranking disputed items"):
        session = ReviewSession.open(ds, log, reviewer=who, media_root=media_root,
                                     include_all=include_all, out=out, label_set=label_set)
    try:
        server = ReviewServer(session, host, port)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                               "try another --port") from None
    decided = len(session.decided)
    click.echo(f"reviewing {path}: {len(session.queue)} item(s) in the queue, {decided} "
               f"already decided; decisions -> {log}")
    click.echo(f"open {server.url}")
    if server.needs_token:
        click.echo("not bound to loopback: the URL carries the access token; share it only "
                   "with the reviewer", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped; every decision is in the log")
    finally:
        server.server_close()
    return EXIT_OK
