"""XML from strangers, read safely and in bounded memory; XML written by hand, streamed.

Reading goes through `defusedxml`'s iterparse: a document type that declares entities (the
"billion laughs" expansion, external entities that would read a local file or a URL) is refused
with a `ConversionError` instead of being expanded. Callers clear each element once they have
turned it into records, so a large file is never held as a tree.

The generic value form (`to_value` / `write_value`) keeps elements a converter does not map, in
a record's `extensions`, as plain JSON: an element with neither children nor attributes is its
text; otherwise an object of child tag -> value (a list where the tag repeats), with attributes
under `"@"` and any text under `"#text"`. It is what lets an unknown tag round-trip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import iterparse as _defused_iterparse

from ..errors import ConversionError
from ..issues import Location

__all__ = [
    "XmlOut",
    "fmt_num",
    "iter_events",
    "line_of",
    "to_value",
    "write_value",
]


class _Element(Element):
    """An element that remembers the line it starts on (for located issues)."""

    sourceline: int | None = None


class _LineParser(DefusedXMLParser):  # type: ignore[misc]
    def _start(self, tag: str, attr_list: Any) -> Element:
        elem: Element = super()._start(tag, attr_list)
        elem.sourceline = self.parser.CurrentLineNumber  # type: ignore[attr-defined]
        return elem


def iter_events(
    f: IO[bytes], *, file: str, not_xml_code: str, forbidden_code: str
) -> Iterator[tuple[str, Element]]:
    """`("start" | "end", element)` pairs of a byte stream, safely.

    Raises `ConversionError` located at the line and column where the XML stops being well
    formed, or naming the entity a document declared (entities are never expanded).
    """
    try:
        parser = _LineParser(target=TreeBuilder(element_factory=_Element))
        yield from _defused_iterparse(f, events=("start", "end"), parser=parser)
    except ParseError as err:
        line, col = err.position
        reason = str(err).split(":")[0]
        raise ConversionError(
            f"not well-formed XML [{not_xml_code}]: {reason} at line {line}, column {col + 1}",
            hint="the file is cut short or was edited by hand; fix the XML at that place",
            location=Location(file=file, line=line),
        ) from None
    except LookupError as err:  # an XML declaration naming an encoding Python does not know
        raise ConversionError(
            f"not readable XML [{not_xml_code}]: {err}",
            hint="declare a known encoding (UTF-8) in the <?xml ...?> line",
            location=Location(file=file, line=1),
        ) from None
    except DefusedXmlException as err:
        name = getattr(err, "name", None)
        system = getattr(err, "sysid", None)
        what = f"entity {name!r}" if name else type(err).__name__
        if system:
            what += f" (external: {system})"
        raise ConversionError(
            f"the XML declares {what} [{forbidden_code}]: entity and DTD declarations are "
            "refused (they can expand to gigabytes or read other files)",
            hint="annotation files from labelling tools declare no entities; remove the "
            "<!DOCTYPE ...> block if the file is otherwise trusted",
            location=Location(file=file),
        ) from None


def is_uint(text: str) -> bool:
    """Whether `text` is a plain non-negative integer a reader can take as one: ASCII digits
    only (`str.isdigit` also accepts `²` and other scripts' digits, which `int` refuses) and
    at most 18 of them (so it fits 64 bits and never hits Python's long-string limit)."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def line_of(elem: Element) -> int | None:
    """The source line of an element, where the parser recorded it (ElementTree does not)."""
    return getattr(elem, "sourceline", None)


def to_value(elem: Element) -> Any:
    """An element as plain JSON (see the module docstring)."""
    children = list(elem)
    text = (elem.text or "").strip()
    if not children and not elem.attrib:
        return text
    out: dict[str, Any] = {}
    if elem.attrib:
        out["@"] = dict(elem.attrib)
    if text:
        out["#text"] = text
    for child in children:
        value = to_value(child)
        if child.tag not in out:
            out[child.tag] = value
        elif isinstance(out[child.tag], list):  # a value is never a list: lists are repeats
            out[child.tag].append(value)
        else:
            out[child.tag] = [out[child.tag], value]
    return out


def fmt_num(value: float) -> str:
    """A number as XML text: integral values without a decimal point, others as the shortest
    text that reads back to the same float once rounded to 10 decimals (float noise such as
    `237.35399999999998` comes from the source and is kept)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    rounded = round(value, 10)
    return repr(rounded if rounded != int(rounded) else value)


class XmlOut:
    """Writes indented XML to a binary stream, one element at a time."""

    def __init__(self, f: IO[bytes], indent: str = "  ") -> None:
        self._f = f
        self._indent = indent
        self._depth = 0

    def raw(self, text: str) -> None:
        self._f.write(text.encode("utf-8"))

    def _pad(self) -> str:
        return self._indent * self._depth

    @staticmethod
    def _attrs(attrs: dict[str, str] | None) -> str:
        if not attrs:
            return ""
        return "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())

    def open(self, tag: str, attrs: dict[str, str] | None = None) -> None:
        self.raw(f"{self._pad()}<{tag}{self._attrs(attrs)}>\n")
        self._depth += 1

    def close(self, tag: str) -> None:
        self._depth -= 1
        self.raw(f"{self._pad()}</{tag}>\n")

    def leaf(self, tag: str, text: str | None = None, attrs: dict[str, str] | None = None) -> None:
        if text is None or text == "":
            self.raw(f"{self._pad()}<{tag}{self._attrs(attrs)}{'/>' if text is None else '></' + tag + '>'}\n")
            return
        self.raw(f"{self._pad()}<{tag}{self._attrs(attrs)}>{escape(text)}</{tag}>\n")


def write_value(
    out: XmlOut, tag: str, value: Any,
    hook: Callable[[XmlOut, str, Any], bool] | None = None,
) -> None:
    """Write a value of the generic form back as the element(s) it came from. `hook(out, tag,
    value)` may write an element itself (returning True), e.g. to put back what a marker
    stands for."""
    if hook is not None and hook(out, tag, value):
        return
    if isinstance(value, list):
        for v in value:
            write_value(out, tag, v, hook)
        return
    if not isinstance(value, dict):
        out.leaf(tag, "" if value is None else str(value))
        return
    attrs = {str(k): str(v) for k, v in value.get("@", {}).items()}
    body = {k: v for k, v in value.items() if k not in ("@", "#text")}
    text = value.get("#text")
    if not body:
        out.leaf(tag, text if text is not None else "", attrs)
        return
    out.open(tag, attrs)
    if text is not None:
        out.raw(f"{out._indent * out._depth}{escape(str(text))}\n")
    for k, v in body.items():
        write_value(out, k, v, hook)
    out.close(tag)
