"""XMP parsing shared by the signals, with defusedxml (no entities, no DTDs, no external fetches).

The packet is flattened into ``{(namespace URI, local name): [values]}``: attributes of any
element and the text of leaf elements are recorded under the nearest property that is not RDF
syntax, so ``<Iptc4xmpExt:DigitalSourceType>`` as an attribute, an element, or inside an
``rdf:Alt`` all read the same, and ``xmpMM:History`` events yield ``stEvt:softwareAgent`` values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

__all__ = ["NS", "XmpError", "XmpProperties", "parse_xmp"]

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "x": "adobe:ns:meta/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}
_SYNTAX = {NS["rdf"], NS["x"]}
_MAX_XMP = 4 * 1024 * 1024
_MAX_VALUES = 20_000
_MAX_DEPTH = 64
_XML_NS = "http://www.w3.org/XML/1998/namespace"


class XmpError(ValueError):
    """The XMP packet could not be parsed (reported as a note, never raised out of a signal)."""


@dataclass(frozen=True)
class XmpProperties:
    """Flattened XMP properties keyed by ``(namespace URI, local name)``."""

    values: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def get(self, prefix: str, name: str) -> list[str]:
        """Values of ``prefix:name`` for a prefix in :data:`NS` (empty when absent)."""
        return self.values.get((NS[prefix], name), [])

    def first(self, prefix: str, name: str) -> str | None:
        found = self.get(prefix, name)
        return found[0] if found else None


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def parse_xmp(text: str) -> XmpProperties:
    """Parse an XMP packet; raises :class:`XmpError` when it is not well-formed XML or too big."""
    if len(text) > _MAX_XMP:
        raise XmpError(f"XMP packet of {len(text)} characters exceeds the {_MAX_XMP} limit")
    start = text.find("<x:xmpmeta")
    if start < 0:
        start = text.find("<rdf:RDF")
    end_meta = text.rfind("</x:xmpmeta>")
    if start >= 0 and end_meta > start:
        body = text[start : end_meta + len("</x:xmpmeta>")]
    elif start >= 0:
        end_rdf = text.rfind("</rdf:RDF>")
        body = text[start : end_rdf + len("</rdf:RDF>")] if end_rdf > start else text[start:]
    else:
        body = text.strip()
    try:
        root = fromstring(body.strip().lstrip("\ufeff"))
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise XmpError(f"malformed XMP: {exc}") from None
    collector = _Collector()
    collector.walk(root, None, 0)
    return XmpProperties(values=dict(collector.values))


class _Collector:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.count = 0

    def add(self, key: tuple[str, str], value: str) -> None:
        value = value.strip()
        if value and self.count < _MAX_VALUES:
            self.values[key].append(value)
            self.count += 1

    def walk(self, el: Element, owner: tuple[str, str] | None, depth: int) -> None:
        if depth > _MAX_DEPTH or self.count >= _MAX_VALUES:
            return
        ns, local = _split(el.tag)
        key = owner if ns in _SYNTAX else (ns, local)
        for attr, value in el.attrib.items():
            ans, alocal = _split(attr)
            if ans and ans not in _SYNTAX and ans != _XML_NS:
                self.add((ans, alocal), value)
        children = list(el)
        if not children and key is not None and el.text:
            self.add(key, el.text)
        for child in children:
            self.walk(child, key, depth + 1)
