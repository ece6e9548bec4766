"""XML compared as parsed values: element trees to plain data, numbers as numbers.

Two files have the same content when `xml_value` of both is equal: element order among
different tags, attribute order, indentation, self-closing vs empty elements, the XML
declaration and number spelling (`1.0` vs `1`, `237.35399999999998` vs `237.354` within 1e-6
relative) do not count; the order of repeated tags (objects, shapes, tracks) does.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def _atom(text: str) -> Any:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(value) and text.lower() not in ("nan", "inf", "infinity"):
            return round(value, 6) if abs(value) < 1e9 else value
    if ";" in text or "," in text:
        parts = [p for p in text.replace(";", ",").replace(" ", "").split(",") if p]
        try:
            return tuple(round(float(p), 6) for p in parts)
        except ValueError:
            pass
    return text


def xml_value(elem: ET.Element) -> Any:
    children: dict[str, list[Any]] = {}
    for child in elem:
        children.setdefault(child.tag, []).append(xml_value(child))
    return (
        tuple(sorted((k, _atom(v)) for k, v in elem.attrib.items())),
        _atom(elem.text or ""),
        tuple(sorted(children.items())),
    )


def file_value(path: Path | str) -> Any:
    return xml_value(ET.parse(path).getroot())
