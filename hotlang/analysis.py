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


INIT = "<init>"


def _scan(program, ns, node, local):
    """Missing library functions/names used directly by node, and the user vars it uses."""
    missing, used = set(), set()

    def visit(n):
        if isinstance(n, A.QRef):
            target = ns.aliases.get(n.ns, n.ns)
            if target in program.namespaces:
                used.add(f"{target}/{n.var}")
                used.add(f"{target}/{INIT}")
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

    _walk(node, visit)
    return missing, used


def unsupported_features(program):
    """Per function: unsupported library functions and unknown names it may reach.

    Namespace-level code counts for every function of that namespace, because it runs before
    any of them; calls between the bundle's own functions are followed.
    """
    direct = {}
    deps = {}
    functions = []
    for ns in program.namespaces.values():
        init_nodes = [st for st in ns.stmts if _runs_at_init(st)]
        init_key = f"{ns.name}/{INIT}"
        direct[init_key], deps[init_key] = _scan(program, ns, init_nodes, set())
        for name, node in ns.var_node.items():
            if not isinstance(node.value, (A.FnDef, A.QRef)):
                continue
            qname = f"{ns.name}/{name}"
            functions.append(qname)
            direct[qname], deps[qname] = _scan(program, ns, node.value, _locals(node.value))
            deps[qname].add(init_key)
    result = _propagate(direct, deps)
    return {k: sorted(result[k]) for k in functions if result[k]}


def _runs_at_init(st):
    """Namespace-level statements evaluated when the namespace initialises."""
    if isinstance(st, A.Binding) and isinstance(st.value, (A.FnDef, A.QRef)) and not st.path:
        return False
    return not isinstance(st, (A.NsDecl, A.NsAlias, A.Coercion))


def _propagate(direct, deps):
    """Follow references until nothing changes: what a callee lacks, its callers lack too."""
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
    return result


def unresolved_names(program):
    """Every use of a name that resolves nowhere, and every reference to a library name this
    runtime lacks, with the file, line and column of the use.

    Returns (errors, unsupported): lists of {"file", "line", "col", "message"}.
    """
    errors, unsupported = [], []
    for ns in program.namespaces.values():
        for st in ns.stmts:
            if isinstance(st, (A.NsDecl, A.NsAlias)):
                continue
            local = _locals(st.value) if isinstance(st, A.Binding) else _locals(st)
            _check_uses(program, ns, st, local, errors, unsupported)
    return errors, unsupported


def _check_uses(program, ns, node, local, errors, unsupported):
    def report(into, n, message):
        into.append({"file": n.loc[0], "line": n.loc[1], "col": n.loc[2], "message": message})

    def visit(n):
        if isinstance(n, A.QRef):
            target = ns.aliases.get(n.ns, n.ns)
            if target in program.namespaces:
                if n.var not in program.namespaces[target].var_loc:
                    report(errors, n, f"unknown name {target}/{n.var}")
            elif n.var not in program.lib.get(target, {}) and n.var not in _BUILTIN_NAMES:
                if target.startswith("::hot::"):
                    report(unsupported, n, f"{target}/{n.var} is not supported by this runtime")
                else:
                    report(errors, n, f"unknown namespace {target} (in {target}/{n.var})")
        elif isinstance(n, A.Name):
            name = n.name
            known = name in local or name in _BUILTIN_NAMES or name in program.core
            if not known and name not in ns.var_loc and name not in ns.hoisted:
                report(errors, n, f"unknown name '{name}'")

    _walk(node, visit)
