"""The error evaluation raises for input it cannot score."""

from __future__ import annotations

from ..errors import GroundtruthError


class EvaluationInputError(GroundtruthError, ValueError):
    """Ground truth or predictions that cannot be scored as asked (e.g. a polygon on an image
    without a size, no prediction matching any item, an unknown slice)."""
