"""Markdown helpers: `::hot::md` (YAML frontmatter, on PyYAML's safe loader)."""

from __future__ import annotations

import datetime
import decimal
import re

import yaml

from ..errors import HotRuntimeError
from ..values import Err, type_name
from .registry import lib

MD = "::hot::md"

# the opening fence, then everything up to a closing `---` alone on its line
_FRONTMATTER = re.compile(r"---\r?\n(.*?)^---(?:\r?\n|\Z)", re.S | re.M)


def _to_hot(node):
    """A YAML value as a Hot value: floats become exact Decs, dates their ISO text."""
    if isinstance(node, bool) or node is None or isinstance(node, (int, str, bytes)):
        return node
    if isinstance(node, float):
        return decimal.Decimal(repr(node))
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()
    if isinstance(node, list):
        return [_to_hot(x) for x in node]
    if isinstance(node, dict):
        return {
            k if isinstance(k, (str, int, bool)) else str(k): _to_hot(v) for k, v in node.items()
        }
    return str(node)


@lib(MD, "parse-frontmatter")
def parse_frontmatter(text):
    if text.__class__ is not str:
        raise HotRuntimeError(f"parse-frontmatter: expected a Str, got {type_name(text)}")
    doc = text.lstrip("\ufeff")
    if not re.match(r"---\r?\n", doc):
        return {"frontmatter": {}, "body": text}
    m = _FRONTMATTER.match(doc)
    if m is None:
        return Err(
            "::hot::md/parse-frontmatter: unterminated YAML frontmatter (missing closing '---')"
        )
    try:
        front = yaml.safe_load(m.group(1))
    except yaml.YAMLError as e:
        return Err(f"::hot::md/parse-frontmatter: invalid YAML frontmatter: {e}")
    return {"frontmatter": _to_hot(front) if front is not None else {}, "body": doc[m.end() :]}
