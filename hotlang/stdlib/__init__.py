"""Native implementations of the Hot standard library subset.

Each function is registered under its hot-std namespace (e.g. `::hot::coll/map`) and, when
hot-std marks it core, under its bare name too.
"""

from __future__ import annotations

from . import base64 as _base64  # noqa: F401  (registers its functions)
from . import bit as _bit  # noqa: F401  (registers its functions)
from . import bool as _bool  # noqa: F401  (registers its functions)
from . import bytes as _bytes  # noqa: F401  (registers its functions)
from . import cmp as _cmp  # noqa: F401  (registers its functions)
from . import coll as _coll  # noqa: F401  (registers its functions)
from . import crypto as _crypto  # noqa: F401  (registers its functions)
from . import exec as _exec  # noqa: F401  (registers its functions)
from . import file as _file  # noqa: F401  (registers its functions)
from . import hash as _hash  # noqa: F401  (registers its functions)
from . import hex as _hex  # noqa: F401  (registers its functions)
from . import hmac as _hmac  # noqa: F401  (registers its functions)
from . import http as _http  # noqa: F401  (registers its functions)
from . import internal as _internal  # noqa: F401  (registers its functions)
from . import io as _io  # noqa: F401  (registers its functions)
from . import iter as _iter  # noqa: F401  (registers its functions)
from . import json as _json  # noqa: F401  (registers its functions)
from . import lang as _lang  # noqa: F401  (registers its functions)
from . import math as _math  # noqa: F401  (registers its functions)
from . import md as _md  # noqa: F401  (registers its functions)
from . import meta as _meta  # noqa: F401  (registers its functions)
from . import mime as _mime  # noqa: F401  (registers its functions)
from . import platform as _platform  # noqa: F401  (registers its functions)
from . import random as _random  # noqa: F401  (registers its functions)
from . import regex as _regex  # noqa: F401  (registers its functions)
from . import resource as _resource  # noqa: F401  (registers its functions)
from . import store as _store  # noqa: F401  (registers its functions)
from . import str as _str  # noqa: F401  (registers its functions)
from . import task as _task  # noqa: F401  (registers its functions)
from . import tcp as _tcp  # noqa: F401  (registers its functions)
from . import term as _term  # noqa: F401  (registers its functions)
from . import test as _test  # noqa: F401  (registers its functions)
from . import time as _time  # noqa: F401  (registers its functions)
from . import type as _type  # noqa: F401  (registers its functions)
from . import uri as _uri  # noqa: F401  (registers its functions)
from . import uuid as _uuid  # noqa: F401  (registers its functions)
from . import xml as _xml  # noqa: F401  (registers its functions)
from .registry import CORE, LIB, PRELUDE, alias, lib

__all__ = ["CORE", "LIB", "PRELUDE", "alias", "lib"]
