"""groundtruth: an open, versioned standard for labeled ML data, and its SDK.

    import groundtruth as gt
    ds = gt.load("delivery.json", format="coco")
    report = gt.validate(ds)
    gt.save(ds, "out/", encoding="parquet")
"""

from typing import TYPE_CHECKING, Any

from .api import convert, iter_records, load, read_manifest, save
from .converters import ConversionReport
from .converters import available as available_formats
from .dataset import Dataset
from .diff import DatasetDiff, diff
from .errors import (
    BackendNotInstalledError,
    ConversionError,
    DataFormatError,
    DatasetExistsError,
    DatasetNotFoundError,
    DatasetValidationError,
    GroundtruthError,
    IntegrityError,
    UnknownFormatError,
    UnknownOptionError,
    UnsupportedVersionError,
)
from .export import export
from .io import iter_batches, read_table
from .issues import Issue, Location
from .scan import fingerprint, scan, stats
from .spec import SPEC_VERSION, SUPPORTED_VERSIONS
from .validation import ValidationReport, validate

if TYPE_CHECKING:
    from .evaluation import EvaluationReport, evaluate
    from .label_errors import suspects
    from .quality import agreement, consensus
    from .sampling import sample

__version__ = "0.1.0"

_LAZY = {
    "agreement": "quality",
    "consensus": "quality",
    "evaluate": "evaluation",
    "EvaluationReport": "evaluation",
    "suspects": "label_errors",
    "sample": "sampling",
}


def __getattr__(name: str) -> Any:
    # Agreement and consensus pull in scipy (about a second): load them on first use, so every
    # `gt` command that does not need them starts fast.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "SPEC_VERSION",
    "SUPPORTED_VERSIONS",
    "BackendNotInstalledError",
    "ConversionError",
    "ConversionReport",
    "DataFormatError",
    "Dataset",
    "DatasetDiff",
    "DatasetExistsError",
    "DatasetNotFoundError",
    "DatasetValidationError",
    "EvaluationReport",
    "GroundtruthError",
    "IntegrityError",
    "Issue",
    "Location",
    "UnknownFormatError",
    "UnknownOptionError",
    "UnsupportedVersionError",
    "ValidationReport",
    "__version__",
    "agreement",
    "available_formats",
    "consensus",
    "convert",
    "diff",
    "evaluate",
    "export",
    "fingerprint",
    "iter_batches",
    "iter_records",
    "load",
    "read_manifest",
    "read_table",
    "sample",
    "save",
    "scan",
    "stats",
    "suspects",
    "validate",
]
