"""Reading older spec versions: dict-level migrations, each from one version to the next.

v1.0 is the first version, so there is nothing to migrate yet; the machinery is here so the
next version adds one function to `MIGRATIONS` and every reader picks it up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import UnsupportedVersionError
from .spec import SPEC_VERSION, SUPPORTED_VERSIONS

Migration = Callable[[dict[str, Any]], dict[str, Any]]

MIGRATIONS: dict[str, tuple[str, Migration]] = {
    # "1.0": ("1.1", _v1_0_to_v1_1),
}


def check_version(version: object, *, where: str = "") -> str:
    """The manifest's `groundtruth` version as a string, or UnsupportedVersionError."""
    text = str(version)
    if text not in SUPPORTED_VERSIONS:
        raise UnsupportedVersionError(
            f"{where}spec version {text!r} is not supported "
            f"(this groundtruth reads {', '.join(SUPPORTED_VERSIONS)})",
            hint="upgrade groundtruth-labels (pip install -U groundtruth-labels), "
            "or check the `groundtruth` field of the manifest",
        )
    return text


def migrate_manifest(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a manifest dict to the current spec version."""
    version = check_version(data.get("groundtruth"))
    while version != SPEC_VERSION:
        version, step = MIGRATIONS[version]
        data = step(data)
        data["groundtruth"] = version
    return data
