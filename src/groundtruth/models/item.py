"""Items: the raw data that annotations are about."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from ._base import Extensions, Id, JsonObject, Model

ItemKind = Literal["image", "text", "audio", "video", "conversation", "document", "other"]


class Token(Model):
    """A token of the item's text: `text[start:end]`, code points, end exclusive.

    `form` is set only where the token's written form differs from that slice
    (e.g. the syntactic words of a contraction: `du` -> `de` + `le`).
    """

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    form: str | None = None
    attributes: dict[str, str] = Field(
        default_factory=dict, description="Per-token columns: POS, lemma, chunk, ..."
    )


class Message(Model):
    """One turn of a conversation."""

    role: str = Field(description="`system`, `user`, `assistant`, `tool`, or a tool's own role.")
    content: str
    name: str | None = None
    metadata: JsonObject = Field(default_factory=dict)


class Candidate(Model):
    """One response that ranking/preference annotations compare."""

    id: Id
    text: str | None = None
    messages: list[Message] = Field(default_factory=list)
    uri: str | None = None
    metadata: JsonObject = Field(default_factory=dict)


_CONTENT_RULES: JsonObject = {
    "allOf": [
        {"if": {"properties": {"kind": {"const": "text"}}, "required": ["kind"]},
         "then": {"anyOf": [{"required": ["text"]}, {"required": ["uri"]}]}},
        {"if": {"properties": {"kind": {"const": "conversation"}}, "required": ["kind"]},
         "then": {"anyOf": [{"required": ["messages"], "properties": {"messages": {"minItems": 1}}},
                            {"required": ["uri"]}]}},
        {"if": {"properties": {"kind": {"enum": ["image", "audio", "video", "document"]}},
                "required": ["kind"]},
         "then": {"required": ["uri"]}},
    ]
}


class Item(Model):
    """A unit of raw data: an image, a text, a clip, a conversation..."""

    model_config = ConfigDict(json_schema_extra=_CONTENT_RULES)

    id: Id
    kind: ItemKind
    uri: str | None = Field(default=None, description="Where the media lives (any URL).")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(default=None, ge=0, description="Media size in bytes.")
    media_type: str | None = Field(default=None, description="MIME type, e.g. `image/jpeg`.")
    text: str | None = Field(default=None, description="Inline text content (text items).")
    tokens: list[Token] = Field(
        default_factory=list, description="Tokenisation of `text`, where it is part of the data."
    )
    messages: list[Message] = Field(
        default_factory=list, description="Conversation turns (conversation items)."
    )
    candidates: list[Candidate] = Field(
        default_factory=list, description="Responses to compare (ranking/preference tasks)."
    )
    width: int | None = Field(default=None, gt=0, description="Pixels (image, video).")
    height: int | None = Field(default=None, gt=0, description="Pixels (image, video).")
    duration: float | None = Field(default=None, ge=0, description="Seconds (audio, video).")
    sample_rate: int | None = Field(default=None, gt=0, description="Hz (audio).")
    fps: float | None = Field(default=None, gt=0, description="Frames per second (video).")
    frame_count: int | None = Field(default=None, ge=0, description="Frames (video).")
    split: str | None = Field(default=None, description="Name of the split the item belongs to.")
    metadata: JsonObject = Field(default_factory=dict)
    extensions: Extensions = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_content(self) -> Item:
        if self.kind == "text" and self.text is None and self.uri is None:
            raise ValueError("a text item needs `text` or `uri`")
        if self.kind == "conversation" and not self.messages and self.uri is None:
            raise ValueError("a conversation item needs `messages` or `uri`")
        if self.kind in ("image", "audio", "video", "document") and self.uri is None:
            raise ValueError(f"an {self.kind} item needs `uri`")
        return self

    def to_json_dict(self) -> JsonObject:
        return compact_item(super().to_json_dict())


def _no_empties(d: JsonObject) -> JsonObject:
    return {k: v for k, v in d.items() if v is not None and v != {} and v != []}


def compact_item(data: JsonObject) -> JsonObject:
    """Leave empty containers out of the item's tokens, messages and candidates as well, so a
    token is `{"start": 0, "end": 3}` rather than carrying `"attributes": {}` on every line."""
    for key in ("tokens", "messages"):
        if key in data:
            data[key] = [_no_empties(x) for x in data[key]]
    if "candidates" in data:
        data["candidates"] = [
            _no_empties({**c, "messages": [_no_empties(m) for m in c.get("messages", [])]})
            for c in data["candidates"]
        ]
    return data

