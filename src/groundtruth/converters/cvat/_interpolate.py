"""Frames of a CVAT track that the file leaves out, materialised between its shapes.

CVAT itself writes every frame of a track (interpolated ones with `keyframe="0"`), but files
written by other tools, or with keyframes only, leave gaps. With `-o frames=all` a gap between
two shapes of a track (the first not `outside`) is filled at the task's frame step, as CVAT
would show it: boxes, points, polylines and polygons (same vertex count) and skeleton nodes move
linearly, attributes stay those of the earlier shape; shapes whose vertex counts differ, and
masks, are repeated. Materialised annotations are marked `extensions.cvat.materialised` and are
not written back (CVAT interpolates them again on import).
"""

from __future__ import annotations

from typing import Any

from ...models import AnnotationBase, BBox, Keypoints, Polygon, Polyline

NS = "cvat"


def _lerp(a: list[float], b: list[float], t: float) -> list[float]:
    return [x + (y - x) * t for x, y in zip(a, b, strict=True)]


def _between(a: AnnotationBase, b: AnnotationBase, t: float) -> dict[str, Any]:
    """Geometry fields of the shape a fraction `t` of the way from `a` to `b`."""
    if isinstance(a, BBox) and isinstance(b, BBox):
        out: dict[str, Any] = {"bbox": _lerp(a.bbox, b.bbox, t)}
        if a.rotation is not None and b.rotation is not None:
            out["rotation"] = a.rotation + (b.rotation - a.rotation) * t
        return out
    if isinstance(a, Polygon) and isinstance(b, Polygon) and len(a.polygon[0]) == len(
            b.polygon[0]):
        return {"polygon": [_lerp(a.polygon[0], b.polygon[0], t)]}
    if isinstance(a, Polyline) and isinstance(b, Polyline) and len(a.polyline[0]) == len(
            b.polyline[0]):
        return {"polyline": [_lerp(a.polyline[0], b.polyline[0], t)]}
    if isinstance(a, Keypoints) and isinstance(b, Keypoints) and len(a.keypoints) == len(
            b.keypoints):
        kp = list(a.keypoints)
        for i in range(0, len(kp) - 2, 3):
            if a.keypoints[i + 2] > 0 and b.keypoints[i + 2] > 0:
                kp[i:i + 2] = _lerp(a.keypoints[i:i + 2], b.keypoints[i:i + 2], t)
        return {"keypoints": kp}
    return {}


def materialise(anns: list[AnnotationBase], step: int) -> tuple[list[AnnotationBase], int]:
    """The track's annotations with the gaps filled; and how many were added."""
    if not anns:  # a track whose every shape was refused
        return [], 0
    ordered = sorted(anns, key=lambda x: x.frame if x.frame is not None else -1)
    out: list[AnnotationBase] = []
    added = 0
    for a, b in zip(ordered, [*ordered[1:], None], strict=True):
        out.append(a)
        if b is None or a.frame is None or b.frame is None or a.attributes.get("outside") is True:
            continue
        for f in range(a.frame + step, b.frame, step):
            t = (f - a.frame) / (b.frame - a.frame)
            ext = {**a.extensions.get(NS, {}), "keyframe": False, "materialised": True}
            out.append(a.model_copy(update={
                "id": f"{a.id.rsplit(':', 1)[0]}:{f}", "frame": f, **_between(a, b, t),
                "extensions": {**a.extensions, NS: ext},
            }))
            added += 1
    return out, added
