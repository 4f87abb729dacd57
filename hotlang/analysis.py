"""Static scan: which library functions / features each function uses that hotlang lacks."""

from __future__ import annotations

from . import ast as A

_BUILTIN_NAMES = {"Result", "OnErr", "_", "true", "false", "null"}


def _walk(node, visit):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Node):
            visit(n)
            for f in n.fields:
                stack.append(getattr(n, f))
        elif isinstance(n, (list, tuple)):
            stack.extend(n)


def _locals(node):
    names = set()

    def visit(n):
        if isinstance(n, A.Binding):
            names.add(n.name)
        elif isinstance(n, A.Param):
            names.add(n.name)
        elif isinstance(n, A.MatchArm) and n.bind:
            names.add(n.bind)

    _walk(node, visit)
    return names


def unsupported_features(program):
    direct = {}
    deps = {}
    for ns in program.namespaces.values():
        for name, node in ns.var_node.items():
            if not isinstance(node.value, (A.FnDef, A.QRef)):
                continue
            qname = f"{ns.name}/{name}"
            missing, used = set(), set()
            local = _locals(node.value)

            def visit(n, ns=ns, missing=missing, used=used, local=local):
                if isinstance(n, A.QRef):
                    target = ns.aliases.get(n.ns, n.ns)
                    if target in program.namespaces:
                        used.add(f"{target}/{n.var}")
                    elif n.var not in program.lib.get(target, {}):
                        missing.add(f"{target}/{n.var}")
                elif isinstance(n, A.Name):
                    nm = n.name
                    if nm in local or nm in _BUILTIN_NAMES:
                        return
                    if nm in ns.var_node or nm in ns.hoisted:
                        used.add(f"{ns.name}/{nm}")
                    elif nm not in program.core:
                        missing.add(f"unknown name '{nm}'")

            _walk(node.value, visit)
            direct[qname] = missing
            deps[qname] = used
    # propagate through calls between user functions until nothing changes
    result = {k: set(v) for k, v in direct.items()}
    changed = True
    while changed:
        changed = False
        for k, used in deps.items():
            for d in used:
                extra = result.get(d, set()) - result[k]
                if extra:
                    result[k] |= extra
                    changed = True
    return {k: sorted(v) for k, v in result.items() if v}
