"""JSON text: `::hot::json`."""

from __future__ import annotations

import json

from .. import jsonmap
from ..values import Err, as_bytes
from .registry import lib


@lib("::hot::json", "to-json", core=True)
def to_json(v, pretty=False):
    return jsonmap.dumps(v, pretty=pretty is True)


@lib("::hot::json", "from-json", core=True)
def from_json(s):
    try:
        return jsonmap.loads(s if s.__class__ is str else as_bytes(s, "from-json").decode())
    except (ValueError, json.JSONDecodeError) as e:
        return Err({"message": f"invalid JSON: {e}"})
