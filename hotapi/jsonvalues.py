"""What a JSON value must be before it is stored: bounded nesting, storable strings.

PostgreSQL refuses ``\\u0000`` in ``jsonb`` and text, and a lone UTF-16 surrogate cannot be
encoded as UTF-8 at all: SQLite would store it and every later response rendering that row would
fail. Both are refused at the door, identically on every database, so no stored row can ever
break a read. Deep nesting is bounded because every consumer (masking, the runtime, renderers)
walks values recursively.
"""

import re
from dataclasses import dataclass

UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# Nested JSON deeper than this is refused; it also bounds the parser's own recursion.
DEFAULT_MAX_DEPTH = 128


@dataclass(frozen=True)
class JsonProblem:
    path: str  # e.g. "event_data.items[2]" ("" for the value itself)
    message: str


def _child_path(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _string_problem(text: str, path: str, what: str) -> JsonProblem | None:
    found = UNSTORABLE_CHARACTERS.search(text)
    if found is None:
        return None
    char = "NUL (\\u0000)" if found.group() == "\x00" else "an unpaired surrogate"
    return JsonProblem(path, f"{what} must not contain {char}")


def find_unstorable(value, *, max_depth: int = DEFAULT_MAX_DEPTH) -> JsonProblem | None:
    """The first reason ``value`` (parsed JSON) cannot be stored, or None. Iterative, so a
    hostile value cannot exhaust the stack here."""
    pending = [(value, "", 0)]
    while pending:
        item, path, depth = pending.pop()
        if isinstance(item, str):
            if problem := _string_problem(item, path, "strings"):
                return problem
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return JsonProblem(path, f"nested deeper than {max_depth} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and (problem := _string_problem(key, path, "keys")):
                    return JsonProblem(_child_path(path, "?"), problem.message)
                pending.append((child, _child_path(path, key), depth + 1))
    return None
