"""Shared pieces of the models: the strict base class and small value types."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1)]
"""An opaque, non-empty identifier. Numeric ids from other formats are kept as their decimal text."""

JsonObject = dict[str, Any]
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

    model_config = ConfigDict(
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
