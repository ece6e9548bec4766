"""Issue codes of the COCO converter. Each has a section under "### COCO" in spec/v1.0/spec.md."""

from __future__ import annotations

from ...issues import define

# -- reading: the file as a whole ------------------------------------------------------------
NOT_JSON = define("coco.file.not-json", "error", "The file is not JSON")
NOT_COCO = define(
    "coco.file.not-coco", "error", "The JSON is neither a COCO object nor a results array"
)
SECTION_NOT_LIST = define(
    "coco.file.section-not-list", "error", "A top-level section is not a list"
)

# -- reading: records ------------------------------------------------------------------------
RECORD_NOT_OBJECT = define("coco.record.not-object", "error", "A record is not a JSON object")
MISSING_ID = define("coco.record.missing-id", "error", "A record has no usable `id`")
DUPLICATE_ID = define("coco.record.duplicate-id", "warning", "Two records share an `id`")
IMAGE_NO_FILE_NAME = define(
    "coco.image.missing-file-name", "warning", "An image has no `file_name`"
)
IMAGE_NO_SIZE = define(
    "coco.image.missing-size", "warning", "An image has no valid `width`/`height`"
)
CATEGORY_ID_ZERO = define(
    "coco.category.id-zero", "warning", "Category id 0 (often read as background)"
)
CATEGORY_DUPLICATE_NAME = define(
    "coco.category.duplicate-name", "warning", "Two categories share a name"
)
CATEGORY_BAD_SKELETON = define(
    "coco.category.bad-skeleton", "warning", "A skeleton edge is not a 1-based keypoint index"
)
ANN_UNKNOWN_IMAGE = define(
    "coco.annotation.unknown-image", "error", "An annotation's `image_id` names no image"
)
ANN_UNKNOWN_CATEGORY = define(
    "coco.annotation.unknown-category", "warning", "An annotation's `category_id` names no category"
)
ANN_ID_ZERO = define(
    "coco.annotation.id-zero", "warning", "Annotation id 0 (COCOeval never matches it)"
)
ISCROWD_NOT_INT = define("coco.annotation.iscrowd-not-int", "warning", "`iscrowd` is not 0 or 1")
NO_GEOMETRY = define(
    "coco.annotation.no-geometry", "error", "An annotation has nothing groundtruth can hold"
)
BBOX_INVALID = define("coco.bbox.invalid", "warning", "`bbox` is not four finite numbers")
SEG_FLAT_LIST = define(
    "coco.segmentation.flat-list",
    "warning",
    "Polygon segmentation is a flat list, not a list of lists",
)
SEG_SHORT_POLYGON = define(
    "coco.segmentation.short-polygon", "warning", "A polygon part has fewer than 3 points"
)
SEG_ODD_POLYGON = define(
    "coco.segmentation.odd-polygon", "warning", "A polygon part has an odd count of numbers"
)
SEG_INVALID = define("coco.segmentation.invalid", "warning", "`segmentation` has no COCO shape")
RLE_BAD_SUM = define("coco.rle.bad-sum", "warning", "RLE counts do not sum to height*width")
RLE_BAD_COUNTS = define("coco.rle.bad-counts", "warning", "RLE counts cannot be decoded")
RLE_SIZE_TRANSPOSED = define(
    "coco.rle.size-transposed",
    "warning",
    "RLE `size` is [width, height] instead of [height, width]",
)
RLE_SIZE_MISMATCH = define(
    "coco.rle.size-mismatch", "warning", "RLE `size` differs from the image's height and width"
)
KEYPOINTS_INVALID = define(
    "coco.keypoints.invalid", "warning", "`keypoints` is not a list of x, y, v triplets"
)
RESULT_NO_SCORE = define("coco.result.missing-score", "warning", "A result record has no `score`")

# -- writing: the loss report ----------------------------------------------------------------
LOST_ANNOTATION = define(
    "coco.export.unsupported-annotation", "warning", "An annotation type COCO cannot carry"
)
LOST_ITEM = define("coco.export.unsupported-item", "warning", "An item that is not an image")
LOST_PROVENANCE = define(
    "coco.export.provenance", "warning", "Annotation provenance COCO has no field for"
)
LOST_ITEM_FIELDS = define("coco.export.item-fields", "warning", "Item fields COCO has no place for")
LOST_MANIFEST = define(
    "coco.export.manifest-fields", "warning", "Manifest fields COCO has no place for"
)
LOST_ROTATION = define("coco.export.rotation", "warning", "A rotated box written without rotation")
HOLES_AS_RLE = define(
    "coco.export.holes-as-rle", "warning", "A polygon with holes written as an RLE mask"
)
NO_SIZE = define("coco.export.no-image-size", "warning", "An image without width/height")
UNLABELLED = define("coco.export.unlabelled", "warning", "An annotation without a label")
MASK_URI = define("coco.export.mask-uri", "warning", "A mask stored as an image file")
LOST_LABEL_FIELDS = define(
    "coco.export.label-fields", "warning", "Label fields COCO has no place for"
)
