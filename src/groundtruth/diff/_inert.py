"""Moved to `groundtruth._inert` (the CLI and the validation report use it too)."""

from __future__ import annotations

from .._inert import html_text, md, md_code, plain

__all__ = ["html_text", "md", "md_code", "plain"]
