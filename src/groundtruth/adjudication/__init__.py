"""Adjudication: decisions about disputed items, recorded as data (spec section 5.5).

`read_decisions` / `append_decision` read and append a decisions log (JSONL, append-only,
crash-safe); `adjudicate(ds, log)` replays one into a new dataset version whose adjudicator
annotations link the annotations they accept or overrule.
"""

from ._apply import (
    AdjudicationResult,
    adjudicate,
    adjudication_id,
    build_adjudication,
    decision_key,
)
from ._disputes import Dispute, find_disputes
from ._guideline import FeedbackReport, GuidelineCheck, feedback_report, guideline_check
from ._log import LoggedDecision, append_decision, decision_line, read_decisions

__all__ = [
    "AdjudicationResult",
    "Dispute",
    "FeedbackReport",
    "GuidelineCheck",
    "LoggedDecision",
    "adjudicate",
    "adjudication_id",
    "append_decision",
    "build_adjudication",
    "decision_key",
    "decision_line",
    "feedback_report",
    "find_disputes",
    "guideline_check",
    "read_decisions",
]
