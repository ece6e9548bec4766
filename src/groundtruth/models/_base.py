"""Shared pieces of the models: the strict base class and small value types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1)]
"""An opaque, non-empty identifier. Numeric ids from other formats are kept as their decimal text."""

JsonObject = dict[str, Any]

Box = Annotated[list[float], Field(min_length=4, max_length=4)]
"""`[x, y, width, height]` in pixels."""

Timestamp = Annotated[datetime, Field(strict=False)]
"""An RFC 3339 date-time (e.g. `2026-03-01T12:00:00Z`)."""
"""Free-form JSON object (metadata, attributes, extension payloads)."""

Extensions = Annotated[
    dict[str, JsonObject],
    Field(
        description=(
            "Tool-specific data with no place in the model, keyed by namespace "
            "(`coco`, `conllu`, `labelstudio`, ...), kept so round trips are lossless."
        ),
    ),
]


class Model(BaseModel):
    """Base of every spec object: unknown keys are errors, so typos never pass silently."""

    # strict: "10" is not a number and 1 is not true, exactly as the JSON Schema says (JSON
    # mode still reads ints into float fields). Datetime fields opt out to accept RFC 3339 text.
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        populate_by_name=True,
        validate_default=False,
        ser_json_inf_nan="strings",
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The record as plain JSON values, without unset (None) fields or empty containers."""
        return compact(self.model_dump(mode="json", exclude_none=True, by_alias=True))


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """Drop top-level empty lists and dicts: `[]`/`{}` and absent mean the same in the spec."""
    return {k: v for k, v in record.items() if v != [] and v != {}}
