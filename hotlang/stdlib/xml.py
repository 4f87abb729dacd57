"""XML: `::hot::xml`. An element is an `Xml` record `{tag, attrs, content}`; content holds
strings and child elements in document order. Tags keep their namespace prefix as written.

Parsing uses expat without namespace processing; expat never fetches external entities and
limits entity expansion.
"""

from __future__ import annotations

from xml.parsers import expat

from ..errors import HotRuntimeError
from ..values import Builtin, Err, TypedVal, TypeInfo, hot_str, type_name
from .registry import LIB, lib

X = "::hot::xml"


def _element(tag, attrs, content):
    return TypedVal(XML, {"tag": tag, "attrs": attrs, "content": content})


def _xml_ctor(value):
    if value.__class__ is TypedVal and value.type is XML:
        return value
    if value.__class__ is not dict or value.get("tag").__class__ is not str:
        raise HotRuntimeError(f"Xml: expected a Map with a tag, got {type_name(value)}")
    return _element(value["tag"], dict(value.get("attrs") or {}), list(value.get("content") or []))


XML = TypeInfo(
    "Xml", f"{X}/Xml", "type", [("tag", ["Str"]), ("attrs", ["Map"]), ("content", ["Vec"])]
)
XML.ctor = Builtin("Xml", _xml_ctor, "strict", f"{X}/Xml")
LIB.setdefault(X, {})["Xml"] = XML


class _Builder:
    def __init__(self):
        self.stack = [_element("#document", {}, [])]

    def start(self, tag, attrs):
        el = _element(tag, dict(attrs), [])
        self.stack[-1].value["content"].append(el)
        self.stack.append(el)

    def end(self, tag):
        self.stack.pop()

    def text(self, data):
        content = self.stack[-1].value["content"]
        if content and content[-1].__class__ is str:
            content[-1] += data
        else:
            content.append(data)


@lib(X, "from-xml", core=True)
def from_xml(text):
    builder = _Builder()
    parser = expat.ParserCreate()
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    try:
        parser.Parse(hot_str(text), True)
    except expat.ExpatError as e:
        return Err({"message": f"invalid XML: {e}"})
    roots = [c for c in builder.stack[0].value["content"] if c.__class__ is TypedVal]
    if len(roots) != 1:
        return Err({"message": "invalid XML: expected one root element"})
    return roots[0]


def _escape(text, quote=False):
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


@lib(X, "to-xml", core=True)
def to_xml(el):
    if el.__class__ is not TypedVal:
        return _escape(hot_str(el))
    f = el.value
    attrs = "".join(
        f' {k}="{_escape(hot_str(v), True)}"' for k, v in (f.get("attrs") or {}).items()
    )
    content = f.get("content") or []
    if not content:
        return f"<{f['tag']}{attrs}/>"
    inner = "".join(to_xml(c) for c in content)
    return f"<{f['tag']}{attrs}>{inner}</{f['tag']}>"


def _children(el):
    if el.__class__ is not TypedVal:
        return []
    return [c for c in el.value.get("content") or [] if c.__class__ is TypedVal]


@lib(X, "children")
def children(el, tag=None):
    return [c for c in _children(el) if tag is None or c.value["tag"] == tag]


@lib(X, "child")
def child(el, tag):
    found = children(el, tag)
    return found[0] if found else None


@lib(X, "text")
def text(el):
    """All the text inside an element, its descendants' included, in document order."""
    if el is None:
        return None
    if el.__class__ is not TypedVal:
        return hot_str(el)
    return "".join(text(c) for c in el.value.get("content") or [])


@lib(X, "attr")
def attr(el, name):
    if el.__class__ is not TypedVal:
        return None
    return (el.value.get("attrs") or {}).get(name)


@lib(X, "at")
def at(el, path):
    for tag in path or []:
        el = child(el, tag)
        if el is None:
            return None
    return el
