"""A whole dataset as one JSON document: the form of the spec's examples and small datasets."""

from __future__ import annotations

from pydantic import Field

from ._base import Model
from .annotations import Annotation
from .item import Item
from .manifest import Manifest


class DatasetDocument(Model):
    """`{"manifest": ..., "items": [...], "annotations": [...]}` in one JSON file."""

    manifest: Manifest
    items: list[Item] = Field(default_factory=list)
    annotations: list[Annotation] = Field(default_factory=list)
