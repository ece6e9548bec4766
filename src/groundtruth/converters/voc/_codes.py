"""Issue codes of the Pascal VOC converter. Each has a section under "### Pascal VOC" in
spec/v1.0/spec.md."""

from __future__ import annotations

from ...issues import define

# -- reading ---------------------------------------------------------------------------------
NOT_XML = define("voc.file.not-xml", "error", "An annotation file is not well-formed XML")
ENTITIES = define(
    "voc.file.entities", "error", "An annotation file declares entities (refused, not expanded)"
)
NOT_VOC = define("voc.file.not-voc", "error", "An XML file whose root is not <annotation>")
NO_FILES = define("voc.folder.empty", "error", "No VOC annotation file in the folder")
BAD_SIZE = define("voc.size.invalid", "warning", "<size> width/height is not a positive integer")
NO_NAME = define("voc.object.missing-name", "warning", "An object has no <name>")
NO_BNDBOX = define("voc.object.missing-bndbox", "error", "An object has no usable <bndbox>")
BAD_NUMBER = define("voc.bndbox.invalid", "error", "A <bndbox> coordinate is not a number")
REVERSED = define("voc.bndbox.reversed", "warning", "A <bndbox> max is smaller than its min")
BAD_FLAG = define(
    "voc.object.bad-flag", "warning", "difficult/truncated/occluded is not 0 or 1"
)
UNKNOWN_TAG = define("voc.tag.unknown", "warning", "An element VOC does not define (kept)")
SET_COMMENT = define("voc.imageset.comment", "info", "A comment line in an ImageSets list")
SET_BAD_LINE = define(
    "voc.imageset.bad-line", "warning", "A per-class ImageSets line is not `<id> 1|0|-1`"
)

# -- writing: the loss report ----------------------------------------------------------------
LOST_ITEM = define("voc.export.unsupported-item", "warning", "An item that is not an image")
LOST_ANNOTATION = define(
    "voc.export.unsupported-annotation", "warning", "An annotation type VOC cannot carry"
)
LOST_ROTATION = define("voc.export.rotation", "warning", "A rotated box written without rotation")
LOST_PROVENANCE = define(
    "voc.export.provenance", "warning", "Annotation provenance VOC has no element for"
)
LOST_ITEM_FIELDS = define("voc.export.item-fields", "warning", "Item fields VOC has no place for")
LOST_MANIFEST = define(
    "voc.export.manifest-fields", "warning", "Manifest fields VOC has no place for"
)
LOST_LABEL_FIELDS = define(
    "voc.export.label-fields", "warning", "Label fields VOC has no place for"
)
UNLABELLED = define("voc.export.unlabelled", "warning", "A box without a label")
NO_SPLIT = define(
    "voc.export.classification-no-split",
    "warning",
    "An image-level label on an item with no split (VOC lists need one)",
)
SHAPE_AS_BOX = define(
    "voc.export.shape-as-box", "warning", "A polygon, mask, keypoints or polyline written as a box"
)
RENAMED = define(
    "voc.export.renamed", "warning", "An item id that is not a safe file name, written renamed"
)
MASK_FILE = define(
    "voc.export.mask-file", "warning", "A segmentation PNG referenced, not copied"
)
