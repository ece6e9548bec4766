"""groundtruth: an open, versioned standard for labeled ML data, and its SDK.

    import groundtruth as gt
    ds = gt.load("delivery.json", format="coco")
    report = gt.validate(ds)
    gt.save(ds, "out/", encoding="parquet")
"""

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
    UnsupportedVersionError,
)
from .export import export
from .io import iter_batches, read_table
from .issues import Issue, Location
from .quality import agreement, consensus
from .scan import fingerprint, scan, stats
from .spec import SPEC_VERSION, SUPPORTED_VERSIONS
from .validation import ValidationReport, validate

__version__ = "0.1.0"

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
    "GroundtruthError",
    "IntegrityError",
    "Issue",
    "Location",
    "UnknownFormatError",
    "UnsupportedVersionError",
    "ValidationReport",
    "__version__",
    "agreement",
    "available_formats",
    "consensus",
    "convert",
    "diff",
    "export",
    "fingerprint",
    "iter_batches",
    "iter_records",
    "load",
    "read_manifest",
    "read_table",
    "save",
    "scan",
    "stats",
    "validate",
]
