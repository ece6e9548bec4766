"""`groundtruth.versions`: a version's history (`log`) and versions read from stores."""

from ._log import LogEntry, log, render_log

__all__ = ["LogEntry", "log", "render_log"]
