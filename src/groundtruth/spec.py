"""Spec versions: the one place that says which versions exist and which is current."""

from __future__ import annotations

SPEC_VERSION = "1.0"
"""The version this SDK writes."""

SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0",)
"""Every version this SDK reads (older ones through `groundtruth.migrate`)."""

SCHEMA_BASE_URI = "https://groundtruth-spec.org/schema"
"""`$id` prefix of the published JSON Schemas: `{SCHEMA_BASE_URI}/v{version}/{name}.schema.json`."""


def schema_id(name: str, version: str = SPEC_VERSION) -> str:
    return f"{SCHEMA_BASE_URI}/v{version}/{name}.schema.json"
