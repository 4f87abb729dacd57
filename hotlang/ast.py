"""AST node classes. Every node carries `loc` = (file, line, col)."""

from __future__ import annotations


class Node:
    __slots__ = ("loc",)
    fields: tuple = ()

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields)
        return f"{type(self).__name__}({inner})"


def _node(name, *fields):
    def __init__(self, loc, *args):
        self.loc = loc
        for f, a in zip(fields, args, strict=False):
            setattr(self, f, a)

    return type(name, (Node,), {"__slots__": fields, "fields": fields, "__init__": __init__})


Lit = _node("Lit", "value")  # int, Decimal, str, bool, None
Tmpl = _node("Tmpl", "parts")  # list of str | Node
Name = _node("Name", "name")
QRef = _node("QRef", "ns", "var")  # ::ns/var
NsRef = _node("NsRef", "ns")  # ::ns used as a value
VecLit = _node("VecLit", "items")  # list of (is_spread, node)
MapLit = _node("MapLit", "items")  # list of (key | None for spread, node)
Call = _node("Call", "fn", "args")  # args: list of (is_spread, node)
Dot = _node("Dot", "obj", "name")
Index = _node("Index", "obj", "index")
Pipe = _node("Pipe", "lhs", "rhs")
Placeholder = _node("Placeholder", "n")
PhLambda = _node("PhLambda", "body", "nparams", "implicit")  # implicit, or %(...) lambda
Do = _node("Do", "expr")
LazyExpr = _node("LazyExpr", "expr")
Param = _node("Param", "name", "type", "lazy", "variadic")
# flow: serial|parallel|cond|cond-all|match|match-all; body: list of stmts or arms
Overload = _node("Overload", "params", "ret", "flow", "body")
FnDef = _node("FnDef", "overloads", "is_lambda")
Flow = _node("Flow", "kind", "subject", "body", "shape")
Binding = _node("Binding", "name", "path", "type", "value", "meta")  # path: list of segments
CondArm = _node("CondArm", "pred", "label", "value")
MatchArm = _node("MatchArm", "patterns", "bind", "value", "label")
TypeDef = _node("TypeDef", "kind", "spec", "open")  # kind: type|enum|ctor
NsDecl = _node("NsDecl", "ns", "meta")
NsAlias = _node("NsAlias", "alias", "target")
Coercion = _node("Coercion", "source", "target", "value")
TypeRef = _node(
    "TypeRef", "text", "atoms", "display"
)  # text + union atoms; display: as Hot prints it
Pattern = _node("Pattern", "kind", "value")  # kind: lit|type|any|vec|map
