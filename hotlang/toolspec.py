"""Function-signature reflection: JSON Schemas of typed functions, and skill metadata.

Backs `::hot::internal::mcp` (tool schemas: `{name, input-schema, output-schema, description?,
display-name?}` for every function of the program) and `::hot::internal::skill` (the `meta
{skill: {...}}` map of every function that has one). Schemas follow Hot's rules, worked from
type annotations as Hot prints them (`Map<Str, Str>?`, `"a" | "b"`):

- `Str`, `Int`, `Dec`, `Bool`, `Null`, `Vec`, `Map` give their JSON type; `Bytes`, `Uuid`,
  `Uri`, `Date`, `DateTime`, `Time` and `Duration` a string with a `format`; `Any` (or no
  annotation) the empty schema;
- `A | B` is `anyOf`; `T?` is `anyOf` of T and null; `Vec<T>` an array of T; `Map<K, V>` an
  object whose `additionalProperties` are V; `Result<T, E>` is T;
- a record type is an object with its fields as properties (optional fields not required); an
  enum of unit variants is an `enum` of names, one with payloads a `oneOf` over
  `{$type, $val}` objects; an alias is its aliased type; a type found nowhere is an object
  described as `Custom type: Name`;
- a type reached again inside itself is hoisted into `$defs` and referenced with `$ref`.
"""

from __future__ import annotations

from . import ast as A

_FORMATS = {
    "Bytes": "byte",
    "Date": "date",
    "DateTime": "date-time",
    "Time": "time",
    "Duration": "duration",
    "Uuid": "uuid",
    "Uri": "uri",
    "Url": "uri",
}
_JSON_TYPES = {
    "Str": "string",
    "String": "string",
    "Int": "integer",
    "Integer": "integer",
    "Dec": "number",
    "Number": "number",
    "Bool": "boolean",
    "Boolean": "boolean",
    "Null": "null",
    "Vec": "array",
    "Map": "object",
}


class TypeInfoEntry:
    """What a schema needs of one type definition."""

    __slots__ = ("fields", "variants", "alias")

    def __init__(self, node):
        self.fields = self.variants = self.alias = None
        if node.kind in ("type", "record-ctor"):
            spec = node.spec if node.kind == "type" else node.spec[0]
            self.fields = [(name, _display(t)) for name, t in spec if name != "..."]
        elif node.kind == "enum":
            self.variants = [
                (name, None if p is None else p if isinstance(p, str) else p.display)
                for name, p in node.spec
            ]
        elif node.kind == "alias":
            self.alias = node.spec.display


def _display(typeref):
    return typeref.display if typeref is not None else "Any"


class TypeRegistry:
    """Types by qualified name (`::ns/Name`) and by simple name."""

    def __init__(self, programs):
        self.types = {}
        for program in programs:  # later programs (the user's) win on simple names
            for ns in program.namespaces.values():
                for name, node in ns.bindings.items():
                    if isinstance(node.value, A.TypeDef):
                        entry = TypeInfoEntry(node.value)
                        self.types[f"{ns.name}/{name}"] = entry
                        self.types[name] = entry

    def get_with_key(self, name):
        if name in self.types:
            return name, self.types[name]
        simple = name.rsplit("/", 1)[-1]
        if simple in self.types:
            return simple, self.types[simple]
        return name, None


class SchemaContext:
    def __init__(self, registry):
        self.registry = registry
        self.defs = {}
        self.visited = set()
        self.hoisted = set()


def _split(text, sep):
    """Split at sep outside `<...>`."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def type_schema(text, ctx):
    text = text.strip()
    if not text or text == "Any":
        return {}
    parts = _split(text, "|")
    if len(parts) > 1:
        return {"anyOf": [type_schema(p, ctx) for p in parts]}
    if text.endswith("?"):
        return {"anyOf": [type_schema(text[:-1], ctx), {"type": "null"}]}
    start, end = text.find("<"), text.rfind(">")
    if start != -1 and end > start:
        return _generic_schema(text[:start].strip(), _split(text[start + 1 : end], ","), ctx)
    if text in _JSON_TYPES:
        return {"type": _JSON_TYPES[text]}
    if text in _FORMATS:
        return {"type": "string", "format": _FORMATS[text]}
    return _custom_schema(text, ctx)


def _generic_schema(base, params, ctx):
    if base == "Vec":
        return {"type": "array", "items": type_schema(params[0], ctx) if params else {}}
    if base == "Map":
        value = type_schema(params[1], ctx) if len(params) >= 2 else {}
        return {"type": "object", "additionalProperties": value}
    if base == "Result":
        return type_schema(params[0], ctx) if params else {}
    return _custom_schema(base, ctx)


def _def_name(name):
    return name.lstrip(":").replace("/", "_").replace("::", "_")


def _ref(name):
    return {"$ref": f"#/$defs/{_def_name(name)}"}


def _custom_schema(name, ctx):
    key, info = ctx.registry.get_with_key(name)
    if key in ctx.visited:  # a cycle: the type goes to $defs, this place refers to it
        ctx.hoisted.add(key)
        return _ref(key)
    if key in ctx.hoisted:
        return _ref(key)
    ctx.visited.add(key)
    if info is None:
        schema = {"type": "object", "description": f"Custom type: {name}"}
    elif info.alias is not None:
        schema = type_schema(info.alias, ctx)
    elif info.variants is not None:
        schema = _enum_schema(key, info.variants, ctx)
    elif info.fields is not None:
        schema = _object_schema(info.fields, ctx)
    else:
        schema = {"type": "object"}
    ctx.visited.discard(key)
    if key in ctx.hoisted:
        ctx.defs.setdefault(_def_name(key), schema)
        return _ref(key)
    return schema


def _enum_schema(enum_name, variants, ctx):
    if not any(payload is not None for _, payload in variants):
        return {"enum": [name for name, _ in variants]}
    one_of = []
    for name, payload in variants:
        props = {"$type": {"const": f"{enum_name}.{name}"}}
        required = ["$type"]
        if payload is not None:
            props["$val"] = type_schema(payload, ctx)
            required.append("$val")
        one_of.append({"type": "object", "properties": props, "required": required})
    return {"oneOf": one_of, "discriminator": {"propertyName": "$type"}}


def _object_schema(fields, ctx):
    properties, required = {}, []
    for name, display in fields:
        properties[name] = type_schema(display, ctx)
        if not display.endswith("?"):
            required.append(name)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _with_defs(schema, ctx):
    if not ctx.defs:
        return schema
    if len(schema) == 1 and "$ref" in schema:  # a recursive type asked for directly: inline it
        name = schema["$ref"].removeprefix("#/$defs/")
        schema = ctx.defs.get(name, schema)
    return {**schema, "$defs": dict(ctx.defs)}


def input_schema(params, registry):
    ctx = SchemaContext(registry)
    if not params:
        return {"type": "object", "properties": {}}
    properties, required = {}, []
    for p in params:
        if p.type is None:
            properties[p.name] = {}
            continue
        if not p.type.display.endswith("?"):
            required.append(p.name)
        properties[p.name] = type_schema(p.type.display, ctx)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return _with_defs(schema, ctx)


def output_schema(ret, registry):
    if ret is None or not ret.display or ret.display == "Any":
        return None
    ctx = SchemaContext(registry)
    return _with_defs(type_schema(ret.display, ctx), ctx)


# -- the registries ----------------------------------------------------------------------------
def _effective(program, ns, name):
    """(fn definition, meta) of a namespace var bound to a function, directly or through an
    alias; an alias with its own meta has it merged over the target's (its keys win)."""
    node = ns.bindings.get(name)
    if node is None:
        return None, None
    own_meta = ns.var_meta.get(name)
    if isinstance(node.value, A.FnDef):
        return node.value, own_meta
    if not isinstance(node.value, A.QRef):
        return None, None
    target = program.alias_target(ns.name, name)
    if target is None:
        return None, None
    target_ns, target_name, fdef = target
    if own_meta is None:
        return fdef, None
    target_meta = target_ns.var_meta.get(target_name)
    if isinstance(target_meta, dict) and isinstance(own_meta, dict):
        return fdef, {**target_meta, **own_meta}
    return fdef, own_meta


def _nested_str(meta, key, sub):
    inner = meta.get(key) if isinstance(meta, dict) else None
    value = inner.get(sub) if isinstance(inner, dict) else None
    return value.strip() if isinstance(value, str) else None


def tool_specs(programs):
    """Every function of the programs (the library's first) -> its tool spec Map."""
    registry = TypeRegistry(programs)
    specs = {}
    for program in programs:
        for ns in program.namespaces.values():
            for name in ns.bindings:
                fdef, meta = _effective(program, ns, name)
                if fdef is None or not fdef.overloads:
                    continue
                first = fdef.overloads[0]
                qname = f"{ns.name}/{name}"
                spec = {
                    "name": qname,
                    "input-schema": input_schema(first.params, registry),
                    "output-schema": output_schema(first.ret, registry),
                }
                doc = meta.get("doc") if isinstance(meta, dict) else None
                description = (
                    _nested_str(meta, "tool", "description")
                    or _nested_str(meta, "mcp", "description")
                    or (doc.strip() if isinstance(doc, str) else None)
                )
                if description is not None:
                    spec["description"] = description
                display_name = _nested_str(meta, "tool", "name") or _nested_str(meta, "mcp", "name")
                if display_name is not None:
                    spec["display-name"] = display_name
                specs[qname] = spec
    return specs


def skill_specs(programs):
    """Every function annotated `meta {skill: {...}}` -> that Map plus its `fn-name`."""
    specs = {}
    for program in programs:
        for ns in program.namespaces.values():
            for name in ns.bindings:
                fdef, meta = _effective(program, ns, name)
                skill = meta.get("skill") if isinstance(meta, dict) else None
                if fdef is None or not isinstance(skill, dict):
                    continue
                qname = f"{ns.name}/{name}"
                specs[qname] = {**skill, "fn-name": skill.get("fn-name", qname)}
    return specs
