"""Issue codes of the YOLO converter. Each has a section under "### YOLO" in spec/v1.0/spec.md."""

from __future__ import annotations

from ...issues import define

# -- reading: the dataset as a whole ---------------------------------------------------------
CONFIG_INVALID = define(
    "yolo.config.invalid", "error", "data.yaml / obj.data cannot be read or has no usable key"
)
CONFIG_PATH = define(
    "yolo.config.path-missing", "warning", "A path named by data.yaml / obj.data does not exist"
)
NAMES_INVALID = define("yolo.names.invalid", "error", "The class names are missing or malformed")
NAMES_COUNT = define(
    "yolo.names.count-mismatch", "warning", "`nc`/`classes` differs from the number of names"
)
NAMES_DUPLICATE = define("yolo.names.duplicate", "warning", "Two classes share a name")
NAMES_SPARSE = define(
    "yolo.names.not-contiguous", "warning", "Class ids in `names` are not 0..N-1"
)
KPT_SHAPE_INVALID = define(
    "yolo.config.kpt-shape", "error", "`kpt_shape`/`flip_idx`/`kpt_names` is malformed"
)
SIZES_INVALID = define(
    "yolo.sizes.invalid", "warning", "An entry of the image sizes file is not {width, height}"
)
SPLIT_DUPLICATE = define(
    "yolo.split.duplicate-image", "warning", "An image is listed by more than one split"
)

# -- reading: images and label files ---------------------------------------------------------
IMAGE_MISSING = define(
    "yolo.image.missing", "warning", "A label file whose image was not found"
)
IMAGE_NO_SIZE = define(
    "yolo.image.no-size", "error", "An image whose size is unknown: its rows cannot be converted"
)
FILE_CRLF = define("yolo.file.crlf", "info", "A label file has Windows (CRLF) line ends")
FILE_ENCODING = define("yolo.file.encoding", "error", "A label file is not valid UTF-8")
LINE_EMPTY = define("yolo.line.empty", "info", "An empty line in a label file")

# -- reading: rows ---------------------------------------------------------------------------
ROW_NOT_NUMBER = define("yolo.row.not-a-number", "error", "A row holds a value that is no number")
ROW_CLASS_INVALID = define(
    "yolo.row.class-invalid", "error", "A row's class is not a non-negative integer"
)
ROW_CLASS_RANGE = define(
    "yolo.row.class-out-of-range", "error", "A row's class id has no name"
)
ROW_COLUMNS = define(
    "yolo.row.columns", "error", "A row has a number of values its task cannot read"
)
ROW_RANGE = define(
    "yolo.row.out-of-range", "error", "A normalised coordinate is below 0 or above 1"
)
ROW_NEAR_RANGE = define(
    "yolo.row.near-range", "warning", "A coordinate is outside [0, 1] by less than 1%"
)
ROW_VISIBILITY = define(
    "yolo.row.visibility", "error", "A keypoint visibility other than 0, 1 or 2"
)
OBB_NOT_RECTANGLE = define(
    "yolo.obb.not-rectangle", "warning", "Oriented-box corners that do not form a rectangle"
)
ROW_DUPLICATE = define("yolo.row.duplicate", "warning", "The same row twice in one label file")
CLASSIFY_NOT_IMAGE = define(
    "yolo.classify.not-image", "warning", "A file in a class folder that is not an image"
)

# -- writing: the loss report ----------------------------------------------------------------
LOST_ANNOTATION = define(
    "yolo.export.unsupported-annotation", "warning",
    "An annotation the chosen YOLO task cannot carry",
)
LOST_ITEM = define("yolo.export.unsupported-item", "warning", "An item that is not an image")
NO_SIZE = define(
    "yolo.export.no-image-size", "warning", "An image without width/height: rows cannot be normalised"
)
UNLABELLED = define("yolo.export.unlabelled", "warning", "An annotation without a label")
AS_BOX = define(
    "yolo.export.shape-as-box", "warning", "A polygon, mask or keypoints written as its box"
)
BOX_AS_POLYGON = define(
    "yolo.export.box-as-polygon", "info", "A box written as a 4-point polygon (segment task)"
)
ROTATION = define(
    "yolo.export.rotation", "warning", "A rotated box written as its axis-aligned extent"
)
HOLES = define("yolo.export.holes", "warning", "Polygon holes dropped (YOLO rings have none)")
MULTI_PART = define(
    "yolo.export.multi-part", "warning", "A polygon of several parts merged, reduced or split"
)
MASK_TRACED = define(
    "yolo.export.mask-traced", "warning", "An RLE mask written as a traced polygon"
)
MASK_SKIPPED = define("yolo.export.mask-skipped", "warning", "A mask that was not written")
CROWD = define("yolo.export.crowd", "warning", "A crowd region skipped or written as a box")
KEYPOINTS = define(
    "yolo.export.keypoints", "warning",
    "Keypoints that do not fit the dataset's kpt_shape, or visibility dropped",
)
PROVENANCE = define(
    "yolo.export.provenance", "warning",
    "Annotation provenance or attributes YOLO has no field for",
)
ITEM_FIELDS = define("yolo.export.item-fields", "warning", "Item fields YOLO has no place for")
MANIFEST_FIELDS = define(
    "yolo.export.manifest-fields", "warning", "Manifest fields YOLO has no place for"
)
LABEL_FIELDS = define("yolo.export.label-fields", "warning", "Label fields YOLO has no place for")
CLASSIFY_MEDIA = define(
    "yolo.export.media-missing", "warning", "An image a classification folder needs is unreadable"
)
CLASSIFY_LABELS = define(
    "yolo.export.classify-labels", "warning",
    "An item with no or several classifications (class folders hold one)",
)
RENAMED = define(
    "yolo.export.renamed", "warning",
    "An image path, split or class name not safe as a path inside the dataset, written renamed",
)
UNSIZED_ROWS = define(
    "yolo.export.unsized-rows", "info",
    "Rows kept verbatim from a YOLO file whose image size was unknown",
)
