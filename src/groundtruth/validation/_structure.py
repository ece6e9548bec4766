"""Structure: a record against the models (the same rules the JSON Schema states).

Pydantic's errors are mapped to a handful of stable codes with the exact field path.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..issues import Issue, define, issue, json_path
from ..models import AnnotationBase, Item, Manifest, annotation_adapter

MISSING_FIELD = define("structure.missing-field", "error", "A required field is absent")
UNKNOWN_FIELD = define("structure.unknown-field", "error", "A field the spec does not define")
WRONG_TYPE = define("structure.wrong-type", "error", "A field holds the wrong JSON type")
INVALID_VALUE = define("structure.invalid-value", "error", "A field's value breaks a rule")
UNKNOWN_TYPE = define(
    "structure.unknown-annotation-type", "error", "An annotation `type` the spec does not define"
)
NOT_OBJECT = define("structure.not-object", "error", "A record is not a JSON object")

_BY_PYDANTIC_TYPE = {
    "missing": MISSING_FIELD,
    "extra_forbidden": UNKNOWN_FIELD,
    "union_tag_invalid": UNKNOWN_TYPE,
    "union_tag_not_found": MISSING_FIELD,
    "model_type": WRONG_TYPE,
    "model_attributes_type": WRONG_TYPE,
    "dict_type": WRONG_TYPE,
    "list_type": WRONG_TYPE,
    "tuple_type": WRONG_TYPE,
    "string_type": WRONG_TYPE,
    "int_type": WRONG_TYPE,
    "int_parsing": WRONG_TYPE,
    "int_from_float": WRONG_TYPE,
    "float_type": WRONG_TYPE,
    "float_parsing": WRONG_TYPE,
    "bool_type": WRONG_TYPE,
    "bool_parsing": WRONG_TYPE,
    "datetime_type": WRONG_TYPE,
    "datetime_parsing": WRONG_TYPE,
    "datetime_from_date_parsing": WRONG_TYPE,
}

_HINTS = {
    MISSING_FIELD: "add the field; spec/v1.0/spec.md lists the required fields of each record",
    UNKNOWN_FIELD: "remove it, or move tool-specific data into `extensions` under a namespace",
    WRONG_TYPE: "store the value with the JSON type the spec gives for this field",
    UNKNOWN_TYPE: "use one of the annotation types of the spec (see spec/v1.0/spec.md)",
    INVALID_VALUE: "the message names the rule; spec/v1.0/spec.md gives each field's rules",
    NOT_OBJECT: "each record is a JSON object",
}


def issues_from_pydantic(
    exc: ValidationError, *, file: str | None = None, line: int | None = None,
    row: int | None = None, record_id: str | None = None, prefix: tuple[str | int, ...] = (),
    tagged_union: bool = False,
) -> list[Issue]:
    """One Issue per pydantic error, with the exact field path."""
    out = []
    for err in exc.errors(include_url=False):
        loc: tuple[Any, ...] = tuple(err["loc"])
        # Pydantic puts the union tag (e.g. "bbox") into the path; a reader wants the field.
        if tagged_union and loc and err["type"] not in ("union_tag_invalid", "union_tag_not_found"):
            loc = loc[1:] if loc[0] in _TAGS else loc
        code = _BY_PYDANTIC_TYPE.get(err["type"], INVALID_VALUE)
        msg = err["msg"]
        if err["type"] == "union_tag_not_found":
            loc = (*loc, "type")
        elif err["type"] == "union_tag_invalid":
            loc = (*loc, "type")
            tag = (err.get("ctx") or {}).get("tag")
            msg = f"unknown annotation type {tag!r}"
        if code in (WRONG_TYPE, INVALID_VALUE):
            msg = f"{msg} (got {_short(err.get('input'))})"
        out.append(
            issue(
                code,
                msg,
                hint=_HINTS.get(code),
                file=file,
                line=line,
                row=row,
                record_id=record_id,
                path=json_path((*prefix, *loc)),
            )
        )
    return out


_TAGS = {
    "classification", "bbox", "polygon", "polyline", "keypoints", "mask", "span", "relation",
    "transcription", "segment", "rating", "ranking", "text",
}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_record(
    data: Any, kind: str, *, file: str | None = None, line: int | None = None,
    row: int | None = None, prefix: tuple[str | int, ...] = (),
) -> Item | AnnotationBase | list[Issue]:
    """Validate one record dict into its model, or return the issues that stop it.

    `prefix` is the record's own path in a larger document (e.g. `("annotations", 3)`).
    """
    if not isinstance(data, dict):
        return [
            issue(
                NOT_OBJECT,
                f"expected a JSON object, got {type(data).__name__}",
                file=file, line=line, row=row, path=json_path(prefix), hint=_HINTS[NOT_OBJECT],
            )
        ]
    rid = data.get("id")
    record_id = str(rid) if isinstance(rid, str | int) else None
    try:
        if kind == "items":
            return Item.model_validate(data)
        return annotation_adapter.validate_python(data)
    except ValidationError as exc:
        return issues_from_pydantic(
            exc, file=file, line=line, row=row, record_id=record_id,
            tagged_union=kind == "annotations", prefix=prefix,
        )


def parse_manifest(
    data: Any, *, file: str | None = None, prefix: tuple[str | int, ...] = ()
) -> Manifest | list[Issue]:
    if not isinstance(data, dict):
        return [
            issue(NOT_OBJECT, f"the manifest must be a JSON object, got {type(data).__name__}",
                  file=file, path=json_path(prefix))
        ]
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        return issues_from_pydantic(exc, file=file, prefix=prefix)
