"""Issue codes of the CVAT XML converter. Each has a section under "### CVAT" in
spec/v1.0/spec.md."""

from __future__ import annotations

from ...issues import define

# -- reading ---------------------------------------------------------------------------------
NOT_XML = define("cvat.file.not-xml", "error", "The file is not well-formed XML")
ENTITIES = define("cvat.file.entities", "error", "The file declares entities (refused)")
NOT_CVAT = define("cvat.file.not-cvat", "error", "The root element is not <annotations>")
VERSION = define("cvat.file.version", "warning", "A <version> other than 1.1")
UNKNOWN_TAG = define("cvat.tag.unknown", "warning", "An element CVAT 1.1 does not define (kept)")
MISSING_ATTRIBUTE = define(
    "cvat.shape.missing-attribute", "error", "A shape or image lacks a required attribute"
)
BAD_NUMBER = define("cvat.shape.bad-number", "error", "A coordinate or number is not a number")
BAD_POINTS = define(
    "cvat.shape.bad-points", "error", "`points` is not `x,y;x,y;...` with enough points"
)
BAD_RLE = define("cvat.mask.bad-rle", "error", "A mask's `rle` does not fill its box")
MASK_NO_SIZE = define(
    "cvat.mask.no-image-size", "warning", "A mask on an image without width/height (kept raw)"
)
UNKNOWN_LABEL = define("cvat.label.unknown", "warning", "A shape's label is not in <meta>")
BAD_ATTRIBUTE = define(
    "cvat.attribute.bad-value", "warning", "An attribute value does not fit its input type"
)
FRAMES = define(
    "cvat.track.frames", "info", "How interpolated track frames were read (`-o frames=`)"
)

# -- writing: the loss report ----------------------------------------------------------------
LOST_ITEM = define("cvat.export.unsupported-item", "warning", "An item CVAT cannot hold here")
LOST_ANNOTATION = define(
    "cvat.export.unsupported-annotation", "warning", "An annotation type CVAT cannot carry"
)
LOST_PROVENANCE = define(
    "cvat.export.provenance", "warning", "Annotation provenance CVAT has no attribute for"
)
LOST_ITEM_FIELDS = define("cvat.export.item-fields", "warning", "Item fields CVAT has no place for")
LOST_MANIFEST = define(
    "cvat.export.manifest-fields", "warning", "Manifest fields CVAT has no place for"
)
LOST_HOLES = define("cvat.export.holes", "warning", "Polygon holes (CVAT polygons have none)")
MULTI_PART = define(
    "cvat.export.multi-part", "warning", "A multi-part polygon/polyline written as a group"
)
SHAPE_AS_TRACK = define(
    "cvat.export.shape-as-track", "warning", "A video annotation without a track id"
)
RENUMBERED = define("cvat.export.renumbered", "info", "Image or track ids renumbered to integers")
