"""Compiles AST nodes into Python closures `ev(env) -> value` and runs them.

`env` is a plain dict of local bindings; names not found there fall back to the namespace's
vars, then to core library names. Calls in tail position return a `TailCall` which the
function-call loop in `call_hot` unrolls, so tail recursion never grows the Python stack.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import partial

from . import ast as A
from .calls import (
    PY_ERRORS,
    SPECIAL,
    CompiledOverload,
    HotFn,
    call_hot,
    call_other,
    consume,
    force,
    get_field,
    get_index,
    value_is,
)
from .concurrency import run_all
from .errors import HotRuntimeError, LimitExceeded, Unsupported
from .jsonmap import to_json
from .parser import max_placeholder
from .state import CURRENT, check_string_size
from .values import (
    MISSING,
    Builtin,
    EnumInfo,
    Err,
    Lazy,
    NsValue,
    Ok,
    TailCall,
    TypedVal,
    TypeInfo,
    hot_eq,
    hot_str,
    repr_value,
    truthy,
    type_name,
)

CAP = "\0capture"  # key present in an env whose bindings are captured as run variables


def assoc_path(cur, segs, value, env_lookup):
    """Immutable deep-path update used by `a.b[0].c value` bindings."""
    if not segs:
        return value
    kind, key = segs[0]
    rest = segs[1:]
    if cur.__class__ in SPECIAL:
        cur = consume(cur)
    if cur.__class__ is TypedVal:
        return TypedVal(cur.type, assoc_path(cur.value, segs, value, env_lookup))
    if kind == "append":
        base = list(cur) if cur.__class__ is list else []
        base.append(assoc_path(None, rest, value, env_lookup) if rest else value)
        return base
    if kind == "index":
        k, literal = key(env_lookup)
        if cur.__class__ is list or (cur is None and literal and k.__class__ is int):
            if k.__class__ is not int:
                raise HotRuntimeError("Vec path index must be an Int")
            base = list(cur) if cur is not None else []
            if k < 0:
                k += len(base)
            if k >= len(base):
                if k - len(base) > 1_000_000:
                    raise LimitExceeded("collection size limit exceeded")
                base.extend([None] * (k + 1 - len(base)))
            base[k] = assoc_path(base[k], rest, value, env_lookup)
            return base
    else:
        k = key
    base = dict(cur) if cur.__class__ is dict else {}
    base[k] = assoc_path(base.get(k), rest, value, env_lookup)
    return base


def record_var(ns, name, value, start, stop):
    s = CURRENT.state
    if len(s.variables) >= s.max_vars:
        return
    try:
        js = to_json(value)
    except Exception:  # a capture must never break the run
        js = hot_str(value)
    t0 = datetime.fromtimestamp(start, UTC)
    t1 = datetime.fromtimestamp(stop, UTC)
    s.variables.append({"ns": ns, "var": name, "value": js, "start_time": t0, "stop_time": t1})
    hooks = s.hooks
    if hooks is not None:
        hooks.on_var(ns, name, js, t0, t1)


# -- compiler ----------------------------------------------------------------------------------
class Compiler:
    """Compiles the AST of one namespace; `ns` is the runtime Namespace object."""

    def __init__(self, ns, program):
        self.ns = ns
        self.program = program
        self.toplevel = True
        self.scopes = []
        self.ns_names = {st.name for st in ns.stmts if isinstance(st, A.Binding)}
        self.local_metas = []  # (scope, {name: meta}) for `x meta ... value` inside functions

    def resolver(self, name):
        return self.program.resolve_type(self.ns, name)

    def local_resolver(self, env, toplevel):
        """Type names as seen where a type is defined: a type bound in the enclosing function
        body first (types may be declared inside functions), then the namespace's."""
        resolver = self.resolver
        if toplevel:
            return resolver

        def resolve(name):
            v = env.get(name)
            return v if v.__class__ in (TypeInfo, EnumInfo) else resolver(name)

        return resolve

    # statements ------------------------------------------------------------------------------
    def body(self, stmts, tail, shape=None, kind="serial"):
        if shape is not None and not shape.startswith("All") and kind != "parallel":
            shape = None
        cs = []
        last = len(stmts) - 1
        for i, s in enumerate(stmts):
            cs.append(self.stmt(s, tail and i == last and shape is None and kind == "serial"))
        if shape is not None or kind == "parallel":
            return self.collect_body(stmts, cs, shape, kind)
        if not cs:
            return lambda env: None
        if len(cs) == 1:
            return cs[0]
        if len(cs) == 2:
            c0, c1 = cs

            def ev2(env):
                c0(env)
                return c1(env)

            return ev2
        init = tuple(cs[:-1])
        lastc = cs[-1]

        def ev(env):
            for c in init:
                c(env)
            return lastc(env)

        return ev

    def collect_body(self, stmts, cs, shape, kind):
        names = [s.name if isinstance(s, A.Binding) else None for s in stmts]
        if kind == "parallel":
            # every statement is a branch on its own thread (see concurrency.py)

            def values(env):
                return run_all([partial(c, env) for c in cs])

        else:

            def values(env):
                return [c(env) for c in cs]

        if shape in ("Vec", "All<Vec>"):
            return values
        if shape is not None and shape not in ("Map", "All<Map>", "All"):

            def ev_last(env):
                vs = values(env)
                return vs[-1] if vs else None

            return ev_last

        def ev_map(env):
            return {n: v for n, v in zip(names, values(env), strict=True) if n is not None}

        return ev_map

    def stmt(self, s, tail):
        if isinstance(s, A.Binding):
            return self.binding(s)
        if isinstance(s, A.NsAlias):
            # aliases may also appear inside bodies; they apply to what is compiled after them
            self.ns.aliases.setdefault(s.alias, s.target)
            return lambda env: None
        if isinstance(s, A.NsDecl):
            return lambda env: None
        if isinstance(s, A.Coercion):
            return self.coercion(s)
        return self.expr(s, tail)

    def coercion(self, s):
        """`Source -> Enum.Variant` enrolls a variant; `Source -> Target fn` registers a
        conversion used by `Str(...)`/`Target(...)`."""
        target = s.target.atoms[0] if s.target.atoms else None
        if target.__class__ is not str:
            return lambda env: None
        resolver = self.resolver
        source = s.source
        fnc = self.c_FnDef(s.value, False) if isinstance(s.value, A.FnDef) else None

        def ev(env):
            src = resolver(source)
            if "." in target:
                enum_name, variant = target.rsplit(".", 1)
                enum = resolver(enum_name)
                if enum.__class__ is EnumInfo:
                    enum.variants[variant] = True
                    if src.__class__ is TypeInfo:
                        add_arrow(src, enum, variant)
                return
            if src.__class__ is TypeInfo and fnc is not None:
                conv = fnc(env)
                src.coercions[target] = conv
                dest = resolver(target)
                if dest.__class__ in (TypeInfo, EnumInfo):
                    add_arrow(src, dest, conv)
            return

        return ev

    def binding(self, s):
        name = s.name
        shape = flow_shape(s.type)
        valc = self.expr(s.value, False, shape)
        if s.meta is not None and self.toplevel:
            self.ns.var_meta[name] = literal_value(s.meta)
        elif s.meta is not None and self.scopes:
            self.scope_metas(self.scopes[-1])[name] = literal_value(s.meta)
        nsname = self.ns.name
        if isinstance(s.value, A.FnDef):

            def set_name(v, name=name):
                if v.__class__ is HotFn and v.name == "fn":
                    v.name = name
                return v

            inner = valc

            def valc(env, inner=inner):
                return set_name(inner(env))

        if isinstance(s.value, A.TypeDef):
            inner2 = valc

            def valc(env, inner=inner2):
                v = inner(env)
                if v.__class__ in (TypeInfo, EnumInfo) and v.name == "?":
                    v.name = name
                    v.qname = f"{nsname}/{name}"
                return v

        if not s.path:

            def ev(env):
                if CAP in env:
                    t0 = time.time()
                    v = valc(env)
                    env[name] = v
                    record_var(nsname, name, v, t0, time.time())
                    return v
                v = valc(env)
                env[name] = v
                return v

            return ev
        segs = []
        for kind, key in s.path:
            if kind == "index":
                segs.append(("index", self.path_key(key)))
            else:
                segs.append((kind, key))
        lookup = self.name_lookup(name, s.loc)
        label = name + "".join(
            "." + k if kd == "field" else "[]" if kd == "append" else "[_]" for kd, k in s.path
        )

        def ev_path(env):
            t0 = time.time()
            v = valc(env)
            try:
                cur = lookup(env)
            except HotRuntimeError:
                cur = None
            env[name] = assoc_path(cur, segs, v, env)
            if CAP in env:
                record_var(nsname, label, v, t0, time.time())
            return v

        return ev_path

    def path_key(self, node):
        if isinstance(node, A.Lit):
            v = node.value
            return lambda env: (v, True)
        c = self.expr(node, False)
        return lambda env: (consume(c(env)), False)

    # expressions -----------------------------------------------------------------------------
    def expr(self, node, tail=False, shape=None):
        m = getattr(self, "c_" + type(node).__name__, None)
        if m is None:
            raise Unsupported(f"unsupported syntax: {type(node).__name__}", node.loc)
        if shape is not None and isinstance(node, A.Flow):
            return self.c_Flow(node, tail, shape)
        if shape is not None and isinstance(node, A.Pipe) and shape in ("All<Vec>", "All<Map>"):
            return self.pipe_collect(node, shape)
        return m(node, tail)

    def c_Lit(self, node, tail):
        v = node.value
        return lambda env: v

    def c_Tmpl(self, node, tail):
        parts = []
        for p in node.parts:
            if isinstance(p, str):
                parts.append((True, p))
            else:
                parts.append((False, self.expr(p)))
        loc = node.loc
        if len(parts) == 1 and parts[0][0]:
            s = parts[0][1]
            return lambda env: s

        def ev(env):
            out = []
            for lit, p in parts:
                if lit:
                    out.append(p)
                else:
                    v = p(env)
                    if v.__class__ in SPECIAL:
                        v = consume(v, loc)
                    out.append(v if v.__class__ is str else hot_str(v))
            r = "".join(out)
            check_string_size(r)
            return r

        return ev

    def name_lookup(self, name, loc):
        nsvars = self.ns.vars
        resolve = self.program.resolve_name
        ns = self.ns
        if self.toplevel or self.is_local(name):

            def ev(env):
                try:
                    return env[name]
                except KeyError:
                    v = nsvars.get(name, MISSING)
                    if v is MISSING:
                        return resolve(ns, name, loc)
                    return v

            return ev
        if name in self.ns_names:

            def ev_ns(env):
                v = nsvars.get(name, MISSING)
                if v is MISSING:
                    return resolve(ns, name, loc)
                return v

            return ev_ns
        cell = []

        # not bound locally or in the namespace: a core name, constant once resolved
        def ev_core(env):
            if cell:
                return cell[0]
            v = resolve(ns, name, loc)
            if v.__class__ is Builtin:
                cell.append(v)
            return v

        return ev_core

    def is_local(self, name):
        for sc in self.scopes:
            if name in sc:
                return True
        return False

    def c_Name(self, node, tail):
        ev = self.name_lookup(node.name, node.loc)
        # what `::hot::meta/get` and `source` (lazy parameters) read about the name
        ev.hot_ref = self.name_ref(node.name)
        return ev

    def scope_metas(self, scope):
        for sc, metas in self.local_metas:
            if sc is scope:
                return metas
        metas = {}
        self.local_metas.append((scope, metas))
        return metas

    def name_ref(self, name):
        if not self.toplevel:
            for sc in reversed(self.scopes):
                if name in sc:
                    return ("local", self.scope_metas(sc).get(name))
        if self.toplevel or name in self.ns_names:
            return ("ns", self.ns.name, name)
        return ("core", None, name)

    def c_Placeholder(self, node, tail):
        key = f"%{node.n}"
        loc = node.loc

        def ev(env):
            v = env.get(key, MISSING)
            if v is MISSING:
                raise HotRuntimeError("placeholder % used outside a function argument", loc)
            return v

        return ev

    def c_QRef(self, node, tail):
        prog = self.program
        ns_name = self.ns.aliases.get(node.ns, node.ns)
        var = node.var
        loc = node.loc
        cache = []

        def ev(env):
            if cache:
                return cache[0]
            v, stable = prog.resolve_qualified(ns_name, var, loc)
            if stable:
                cache.append(v)
            return v

        ev.hot_ref = ("ns", ns_name, var)
        return ev

    def c_NsRef(self, node, tail):
        v = NsValue(self.ns.aliases.get(node.ns, node.ns))
        return lambda env: v

    def c_VecLit(self, node, tail):
        items = [(sp, self.expr(e)) for sp, e in node.items]
        if not any(sp for sp, _ in items):
            cs = tuple(c for _, c in items)
            return lambda env: [c(env) for c in cs]
        loc = node.loc

        def ev(env):
            out = []
            for sp, c in items:
                v = c(env)
                if sp:
                    v = consume(v, loc)
                    if v is None:
                        continue
                    if v.__class__ is not list:
                        raise HotRuntimeError(f"cannot spread a {type_name(v)} into a Vec", loc)
                    out.extend(v)
                else:
                    out.append(v)
            return out

        return ev

    def c_MapLit(self, node, tail):
        items = [(k, self.expr(e)) for k, e in node.items]
        loc = node.loc

        def ev(env):
            out = {}
            for k, c in items:
                v = c(env)
                if k is None:
                    v = consume(v, loc)
                    if v is None:
                        continue
                    if v.__class__ is TypedVal:
                        v = v.value
                    if v.__class__ is not dict:
                        raise HotRuntimeError(f"cannot spread a {type_name(v)} into a Map", loc)
                    out.update(v)
                else:
                    out[k] = v
            return out

        return ev

    def c_Dot(self, node, tail):
        oc = self.expr(node.obj)
        name = node.name
        loc = node.loc

        def ev(env):
            o = oc(env)
            if o.__class__ is dict:
                return o.get(name)
            return get_field(o, name, loc)

        return ev

    def c_Index(self, node, tail):
        oc = self.expr(node.obj)
        ic = self.expr(node.index)
        loc = node.loc
        return lambda env: get_index(oc(env), ic(env), loc)

    def c_Pipe(self, node, tail):
        return self.expr(pipe_to_call(node), tail)

    def pipe_collect(self, node, shape):
        """A pipe annotated All<Vec>/All<Map>: every step's value, by position or `$pipe_N`."""
        stages = []
        while isinstance(node, A.Pipe):
            stages.append(node.rhs)
            node = node.lhs
        stages.reverse()
        first = self.expr(node)
        self.scopes.append({"\0pipe"})
        calls = []
        for st in stages:
            marker = A.Name(st.loc, "\0pipe")
            calls.append(self.expr(pipe_to_call(A.Pipe(st.loc, marker, st))))
        self.scopes.pop()

        def ev(env):
            v = first(env)
            out = [v]
            for c in calls:
                env["\0pipe"] = v
                v = c(env)
                out.append(v)
            env.pop("\0pipe", None)
            if shape == "All<Map>":
                return {f"$pipe_{i}": step for i, step in enumerate(out)}
            return out

        return ev

    def c_Do(self, node, tail):
        c = self.expr(node.expr)

        def ev(env):
            v = c(env)
            while v.__class__ is Lazy:
                v = v.code(v.env)
            return v

        return ev

    def c_LazyExpr(self, node, tail):
        c = self.expr(node.expr)
        return lambda env: Lazy(c, env)

    def c_PhLambda(self, node, tail):
        if node.implicit:
            # the parser wrapped at the outermost call; an argument in a user function's `Fn`
            # parameter inside it is a lambda of its own (`apply-twice(3, add(%, 2))`)
            body = self.wrap_fn_slots(node.body)
            if body is not node.body:
                n = max_placeholder(body)
                if not n:
                    return self.expr(body, tail)
                node = A.PhLambda(node.loc, body, n, False)
        names = [f"%{i}" for i in range(1, node.nparams + 1)]
        self.scopes.append(set(names) | bound_names(node.body))
        was_top = self.toplevel
        self.toplevel = False
        try:
            body = self.expr(node.body, True)
        finally:
            self.scopes.pop()
            self.toplevel = was_top
        ov = CompiledOverload(
            names, [None] * len(names), [False] * len(names), False, body, self.resolver
        )
        ns = self.ns
        top = self.toplevel

        def ev(env):
            return HotFn("fn", [ov], None if top else _snapshot(env), ns)

        return ev

    def wrap_fn_slots(self, node):
        """node with each call argument that sits in a user function's `Fn` parameter and
        holds free placeholders made into its own lambda (new nodes; node itself if none)."""
        if isinstance(node, (A.PhLambda, A.FnDef, A.Placeholder)) or not isinstance(node, A.Node):
            return node
        changed = False
        values = []
        for f in node.fields:
            v = getattr(node, f)
            if isinstance(v, A.Node):
                nv = self.wrap_fn_slots(v)
            elif isinstance(v, list) and v and isinstance(v[0], tuple):
                nv = [(k, self.wrap_fn_slots(x) if isinstance(x, A.Node) else x) for k, x in v]
                nv = nv if any(a[1] is not b[1] for a, b in zip(nv, v, strict=True)) else v
            else:
                nv = v
            changed = changed or nv is not v
            values.append(nv)
        if isinstance(node, A.Call):
            slots = self.fn_slots(node.fn, len(node.args))
            args = values[1]
            if slots:
                wrapped = []
                for i, (spread, a) in enumerate(args):
                    n = 0 if isinstance(a, A.Placeholder) else max_placeholder(a)
                    if i in slots and n and not spread:
                        a = A.PhLambda(a.loc, a, n, False)
                        changed = True
                    wrapped.append((spread, a))
                values[1] = wrapped
        return type(node)(node.loc, *values) if changed else node

    def fn_slots(self, callee, nargs):
        """Positions of `Fn`-typed parameters of the user function a callee names statically."""
        fdef = None
        if isinstance(callee, A.Name) and not self.is_local(callee.name):
            fdef = self.program.function_def(self.ns.name, callee.name)
        elif isinstance(callee, A.QRef):
            fdef = self.program.function_def(self.ns.aliases.get(callee.ns, callee.ns), callee.var)
        if fdef is None:
            return ()
        slots = set()
        for o in fdef.overloads:
            if len(o.params) == nargs:
                for i, p in enumerate(o.params):
                    if p.type is not None and "Fn" in p.type.atoms:
                        slots.add(i)
        return slots

    def c_FnDef(self, node, tail):
        was_top = self.toplevel
        self.toplevel = False
        try:
            ovs = [self.overload(o) for o in node.overloads]
        finally:
            self.toplevel = was_top
        ns = self.ns
        if was_top:
            return lambda env: HotFn("fn", ovs, None, ns)
        if node.is_lambda:
            return lambda env: HotFn("fn", ovs, _snapshot(env), ns)

        # a named inner fn sees the enclosing bindings as they are when it runs
        def ev(env):
            return HotFn("fn", ovs, env, ns)

        return ev

    def overload(self, o):
        self.scopes.append(bound_names(o))
        try:
            return self._overload(o)
        finally:
            self.scopes.pop()

    def _overload(self, o):
        names = [p.name for p in o.params]
        types = [p.type.atoms if p.type is not None else None for p in o.params]
        lazy = [p.lazy for p in o.params]
        if (
            o.flow in ("match", "match-all")
            and o.params
            and any(is_result_pattern(p) for arm in o.body for p in arm.patterns)
        ):
            # a match fn with Result arms receives an Err subject instead of halting on it
            lazy[0] = True
        variadic = bool(o.params) and o.params[-1].variadic
        shape = flow_shape(o.ret)
        subject = A.Name(o.params[0].loc, o.params[0].name) if o.params else A.Lit(o.loc, None)
        if o.flow in ("serial", "parallel"):
            body = self.body(o.body, True, shape, o.flow)
        else:
            body = self.flow(o.flow, subject, o.body, True, shape, o.loc)
        return CompiledOverload(names, types, lazy, variadic, body, self.resolver)

    def c_Flow(self, node, tail, shape=None):
        if node.kind in ("serial", "parallel"):
            return self.body(node.body, tail, shape, node.kind)
        return self.flow(node.kind, node.subject, node.body, tail, shape, node.loc)

    def flow(self, kind, subject, arms, tail, shape, loc):
        if kind == "cond":
            return self.cond(arms, tail, shape)
        if kind == "cond-all":
            return self.cond_all(arms, shape)
        return self.match(kind, subject, arms, tail, shape, loc)

    def cond(self, arms, tail, shape):
        if shape in ("All<Map>", "All<Vec>", "All"):
            return self.cond_shaped(arms, shape)
        compiled = [(self.arm_pred(a), self.expr(a.value, tail)) for a in arms]

        def ev(env):
            for p, v in compiled:
                if p is None:
                    return v(env)
                r = p(env)
                if (
                    r is not None
                    and r is not False
                    and (r.__class__ not in SPECIAL or truthy(force(r)))
                ):
                    return v(env)
            return None

        return ev

    def cond_shaped(self, arms, shape):
        """`x: All<Map> cond {...}`: the first true arm's result under its label (or in a Vec)."""
        compiled = [
            (self.arm_pred(a), self.expr(a.value), a.label if a.label is not None else str(i))
            for i, a in enumerate(arms)
        ]
        as_vec = shape == "All<Vec>"

        def ev(env):
            for p, v, label in compiled:
                if p is None or truthy(force(p(env))):
                    r = v(env)
                    return [r] if as_vec else {label: r}
            return [] if as_vec else {}

        return ev

    def cond_all(self, arms, shape):
        compiled = []
        for i, a in enumerate(arms):
            label = a.label if a.label is not None else str(i)
            compiled.append((self.arm_pred(a), self.expr(a.value), label))
        as_vec = shape == "All<Vec>"
        single = shape is not None and not as_vec and shape not in ("All<Map>", "All")

        def ev(env):
            out_map = {}
            out_vec = []
            last = None
            for p, v, label in compiled:
                if p is None or truthy(force(p(env))):
                    r = v(env)
                    out_map[label] = r
                    out_vec.append(r)
                    last = r
            if single:
                return last
            return out_vec if as_vec else out_map

        return ev

    def arm_pred(self, arm):
        """A cond arm's predicate; None for the default arm (no predicate, or `_ =>`)."""
        pred = arm.pred
        if pred is None or (isinstance(pred, A.Name) and pred.name == "_"):
            return None
        return self.expr(pred)

    def match(self, kind, subject, arms, tail, shape, loc):
        subj = self.expr(subject)
        subj_name = subject.name if isinstance(subject, A.Name) else None
        extra = {a.bind for a in arms if a.bind}
        if subj_name:
            extra.add(subj_name)
        self.scopes.append(extra)
        try:
            return self._match(kind, subj, subj_name, arms, tail, shape)
        finally:
            self.scopes.pop()

    def _match(self, kind, subj, subj_name, arms, tail, shape):
        compiled = []
        for a in arms:
            preds = [self.pattern(p) for p in a.patterns]
            label = a.label or " | ".join(pattern_text(p) for p in a.patterns) or "_"
            compiled.append(
                (
                    preds,
                    a.bind,
                    self.expr(a.value, tail and kind == "match"),
                    label,
                    any(is_result_pattern(p) for p in a.patterns),
                )
            )
        if kind == "match" and shape in ("All<Map>", "All<Vec>"):
            as_vec1 = shape == "All<Vec>"

            def ev_shaped(env):
                v = force(subj(env))
                for preds, bind, body, label, unwrap in compiled:
                    if not preds or any(p(v) for p in preds):
                        r = run_arm(env, v, bind, body, unwrap, subj_name)
                        return [r] if as_vec1 else {label: r}
                return [] if as_vec1 else {}

            return ev_shaped
        if kind == "match":

            def ev(env):
                v = subj(env)
                if v.__class__ is Lazy:
                    v = force(v)
                    if subj_name is not None:
                        env[subj_name] = v  # force the deferred subject only once
                for preds, bind, body, _, unwrap in compiled:
                    if not preds or any(p(v) for p in preds):
                        return run_arm(env, v, bind, body, unwrap, subj_name)
                return None

            return ev
        as_vec = shape == "All<Vec>"
        single = shape is not None and not as_vec and shape not in ("All<Map>", "All")

        def ev_all(env):
            v = force(subj(env))
            out_map = {}
            out_vec = []
            for preds, bind, body, label, unwrap in compiled:
                if not preds or any(p(v) for p in preds):
                    r = run_arm(env, v, bind, body, unwrap, subj_name)
                    out_map[label] = r
                    out_vec.append(r)
            if single:
                return out_vec[-1] if out_vec else None
            return out_vec if as_vec else out_map

        return ev_all

    def pattern(self, p):
        if p.kind == "any":
            return lambda v: True
        if p.kind == "lit":
            lit = p.value
            return lambda v: hot_eq(v.value if v.__class__ is Ok else v, lit)
        if p.kind == "expr":
            c = self.expr(p.value)
            return lambda v: hot_eq(v.value if v.__class__ is Ok else v, c({}))
        name, nullable = p.value
        atoms = [name, "Null"] if nullable else [name]
        if name in ("Result.Ok", "Ok"):
            return lambda v: v.__class__ is not Err
        if name in ("Result.Err", "Err"):
            return lambda v: v.__class__ is Err
        resolver = self.resolver
        return lambda v: value_is(v, atoms, resolver)

    def c_TypeDef(self, node, tail):
        ns = self.ns
        top = self.toplevel
        local_resolver = self.local_resolver
        if node.kind == "enum":
            variants = {n: payload is not None for n, payload in node.spec}
            payloads = {n: type_name_of(p) for n, p in node.spec if p is not None}

            def ev_enum(env):
                e = EnumInfo("?", f"{ns.name}/?", variants, node.open)
                e.payloads = payloads
                e.resolver = local_resolver(env, top)
                return e

            return ev_enum
        if node.kind == "ctor":
            fnc = self.c_FnDef(node.spec, False)

            def ev_ctor(env):
                t = TypeInfo("?", f"{ns.name}/?", "ctor")
                t.ctor = fnc(env)
                return t

            return ev_ctor
        if node.kind == "type":
            fields = [(n, t.atoms if t is not None else None) for n, t in node.spec]
            items = vec_item_types(node.spec)

            def ev_type(env):
                t = TypeInfo("?", f"{ns.name}/?", "type", fields)
                t.resolver = local_resolver(env, top)
                t.items = items
                return t

            return ev_type
        if node.kind == "record-ctor":
            spec_fields, fn_node = node.spec
            fields = [(n, t.atoms if t is not None else None) for n, t in spec_fields]
            fnc2 = self.c_FnDef(fn_node, False)

            def ev_record_ctor(env):
                t = TypeInfo("?", f"{ns.name}/?", "type", fields)
                t.ctor = fnc2(env)
                t.resolver = self.resolver
                return t

            return ev_record_ctor
        atoms = node.spec.atoms
        return lambda env: TypeInfo("?", f"{ns.name}/?", "alias", atoms=atoms)

    def c_Binding(self, node, tail):
        return self.binding(node)

    def c_Call(self, node, tail):
        fnode = node.fn
        if (
            isinstance(fnode, A.Name)
            and fnode.name == "if"
            and len(node.args) in (2, 3)
            and not any(sp for sp, _ in node.args)
        ):
            return self.special_if(node, tail)
        # the callee and each argument are compiled exactly once and shared by every variant
        # below: compiling them per variant doubled the work at each level of nesting
        fc = self.expr(fnode)
        argcs = [self.expr(a) for _, a in node.args]
        generic = self.call(node, tail, fc, argcs)
        if any(sp for sp, _ in node.args) or len(node.args) > 3:
            return generic
        builtin = self.static_builtin(fnode)
        if builtin is not None and builtin.mode == "strict":
            return self.builtin_call(builtin, node, generic, argcs)
        return self.fast_call(node, tail, generic, fc, argcs)

    def static_builtin(self, fnode):
        """The core builtin a bare name must refer to, when no local or ns var can shadow it."""
        if not isinstance(fnode, A.Name) or self.toplevel:
            return None
        name = fnode.name
        if self.is_local(name) or name in self.ns_names:
            return None
        v = self.program.core.get(name)
        return v if v.__class__ is Builtin else None

    def builtin_call(self, b, node, generic, argcs):
        fn = b.fn
        loc = node.loc
        n = len(argcs)
        qname = b.qname

        def fail(e):
            if isinstance(e, HotRuntimeError):
                if e.loc is None:
                    e.loc = loc
                    e.args = (f"{loc[0]}:{loc[1]}:{loc[2]}: {e.message}",)
                return e
            return HotRuntimeError(f"{qname}: {type(e).__name__}: {e}", loc)

        # ev1/ev2/ev2c repeat by design: one closure per arity avoids building an argument
        # list and a loop per call; measured in bench/hotlang_bench.py (see docs/hotlang.md)
        if n == 1:
            (a0,) = argcs

            def ev1(env):
                x = a0(env)
                if x.__class__ in SPECIAL:
                    x = consume(x, loc)
                try:
                    return fn(x)
                except (HotRuntimeError,) + PY_ERRORS as e:
                    raise fail(e) from None

            return ev1
        if n == 2:
            a0, a1 = argcs
            fn2 = b.fast2 or fn
            second = node.args[1][1]
            if isinstance(second, A.Lit):
                const = second.value

                # `f(x, 2)`: the literal needs neither a closure call nor consumption
                def ev2c(env):
                    x = a0(env)
                    if x.__class__ in SPECIAL:
                        x = consume(x, loc)
                    try:
                        return fn2(x, const)
                    except (HotRuntimeError,) + PY_ERRORS as e:
                        raise fail(e) from None

                return ev2c

            def ev2(env):
                x = a0(env)
                if x.__class__ in SPECIAL:
                    x = consume(x, loc)
                y = a1(env)
                if y.__class__ in SPECIAL:
                    y = consume(y, loc)
                try:
                    return fn2(x, y)
                except (HotRuntimeError,) + PY_ERRORS as e:
                    raise fail(e) from None

            return ev2
        return generic

    def fast_call(self, node, tail, generic, fc, argcs):
        """Calls with 1-3 plain arguments: skip list building for the common HotFn case."""
        loc = node.loc
        n = len(argcs)
        # ev1/ev2/ev3 repeat by design: unrolled per arity, a call to a Hot function builds
        # its argument list directly; anything unusual (lazy parameters, a builtin, a value
        # that is not a function) takes the generic path
        if n == 1:
            (a0,) = argcs

            def ev1(env):
                f = fc(env)
                if f.__class__ is not HotFn or f.lazy_any:
                    return generic(env)
                x = a0(env)
                if x.__class__ in SPECIAL:
                    x = consume(x, loc)
                if tail:
                    return TailCall(f, [x])
                return call_hot(f, [x])

            return ev1
        if n == 2:
            a0, a1 = argcs

            def ev2(env):
                f = fc(env)
                if f.__class__ is not HotFn or f.lazy_any:
                    return generic(env)
                x = a0(env)
                if x.__class__ in SPECIAL:
                    x = consume(x, loc)
                y = a1(env)
                if y.__class__ in SPECIAL:
                    y = consume(y, loc)
                if tail:
                    return TailCall(f, [x, y])
                return call_hot(f, [x, y])

            return ev2
        if n == 3:
            a0, a1, a2 = argcs

            def ev3(env):
                f = fc(env)
                if f.__class__ is not HotFn or f.lazy_any:
                    return generic(env)
                x = a0(env)
                if x.__class__ in SPECIAL:
                    x = consume(x, loc)
                y = a1(env)
                if y.__class__ in SPECIAL:
                    y = consume(y, loc)
                z = a2(env)
                if z.__class__ in SPECIAL:
                    z = consume(z, loc)
                if tail:
                    return TailCall(f, [x, y, z])
                return call_hot(f, [x, y, z])

            return ev3
        return generic

    def call(self, node, tail, fc, argcs):
        argcs = tuple(argcs)
        spread = any(sp for sp, _ in node.args)
        spreads = tuple(sp for sp, _ in node.args)
        loc = node.loc
        fname = call_name(node.fn)

        def eval_args(env, f):
            if spread:
                vals = []
                for sp, a in zip(spreads, argcs, strict=False):
                    v = a(env)
                    if sp:
                        v = consume(v, loc)
                        vals.extend(v if v is not None else [])
                    else:
                        vals.append(v)
                return [consume(v, loc) if v.__class__ in SPECIAL else v for v in vals]
            args = []
            for a in argcs:
                v = a(env)
                if v.__class__ in SPECIAL:
                    v = consume(v, loc)
                args.append(v)
            return args

        def ev(env):
            f = fc(env)
            c = f.__class__
            try:
                if c is HotFn:
                    if f.lazy_any and not spread:
                        mask = f.lazy_mask(len(argcs))
                        if mask:
                            args = [
                                Lazy(a, env) if lz else consume(a(env), loc)
                                for a, lz in zip(argcs, mask, strict=False)
                            ]
                            args.extend(consume(a(env), loc) for a in argcs[len(mask) :])
                        else:
                            args = eval_args(env, f)
                    elif spread:
                        args = eval_args(env, f)
                    else:
                        args = [a(env) for a in argcs]
                        for v in args:
                            if v.__class__ in SPECIAL:
                                args = [consume(x, loc) for x in args]
                                break
                    if tail:
                        return TailCall(f, args)
                    return call_hot(f, args)
                if c is Builtin:
                    mode = f.mode
                    if mode == "strict":
                        if spread:
                            args = eval_args(env, f)
                        else:
                            args = [a(env) for a in argcs]
                            for v in args:
                                if v.__class__ in SPECIAL:
                                    args = [consume(x, loc) for x in args]
                                    break
                    elif mode == "raw":
                        args = [force(a(env)) for a in argcs]
                    else:
                        args = [Lazy(a, env) for a in argcs]
                    return f.fn(*args)
                if f is None:
                    raise HotRuntimeError(f"cannot call null (is '{fname}' defined?)", loc)
                return call_other(f, eval_args(env, f))
            except HotRuntimeError as e:
                if e.loc is None:
                    e.loc = loc
                    e.args = (f"{loc[0]}:{loc[1]}:{loc[2]}: {e.message}",)
                raise
            except PY_ERRORS as e:
                raise HotRuntimeError(f"{fname}: {type(e).__name__}: {e}", loc) from None

        return ev

    def deferred_call(self, node, tail):
        """The generic call of node, compiled only if it is ever needed (in the compiler state
        of now), so a rarely taken path costs no compile time."""
        scopes = [set(sc) for sc in self.scopes]
        toplevel = self.toplevel
        cell = []

        def ev(env):
            if not cell:
                saved = (self.scopes, self.toplevel)
                self.scopes, self.toplevel = scopes, toplevel
                try:
                    fc = self.expr(node.fn)
                    argcs = [self.expr(a) for _, a in node.args]
                    cell.append(self.call(node, tail, fc, argcs))
                finally:
                    self.scopes, self.toplevel = saved
            return cell[0](env)

        return ev

    def special_if(self, node, tail):
        """Inline `if` when it resolves to the core builtin, so its branches stay in tail
        position (the builtin would receive them as lazy arguments)."""
        args = [a for _, a in node.args]
        pc = self.expr(args[0])
        tc = self.expr(args[1], tail)
        ec = self.expr(args[2], tail) if len(args) == 3 else (lambda env: None)
        if not self.toplevel and not self.is_local("if") and "if" not in self.ns_names:

            def ev_core_if(env):
                p = pc(env)
                if p.__class__ in SPECIAL:
                    p = force(p)
                if (
                    p is not None
                    and p is not False
                    and (p.__class__ is not Err and (p.__class__ is not Ok or truthy(p)))
                ):
                    return tc(env)
                return ec(env)

            return ev_core_if
        # `if` could be rebound at run time (namespace level): check, else call it generically
        generic = self.deferred_call(node, tail)
        lookup = self.name_lookup("if", node.loc)
        core = self.program.core.get("if")

        def ev_if(env):
            if lookup(env) is not core:
                return generic(env)
            p = pc(env)
            if p.__class__ in SPECIAL:
                p = force(p)
            if truthy(p):
                return tc(env)
            return ec(env)

        return ev_if


def run_arm(env, v, bind, body, unwrap, subj_name):
    if bind is None and not (unwrap and subj_name):
        return body(env)
    payload = v
    if v.__class__ in (Ok, Err):
        payload = v.value
    saved = []
    if bind is not None:
        saved.append((bind, env.get(bind, MISSING)))
        env[bind] = payload
    if unwrap and subj_name and subj_name != bind:
        saved.append((subj_name, env.get(subj_name, MISSING)))
        env[subj_name] = payload
    try:
        r = body(env)
        if r.__class__ is TailCall:
            return r
        return r
    finally:
        for k, old in reversed(saved):
            if old is MISSING:
                env.pop(k, None)
            else:
                env[k] = old


def is_result_pattern(p):
    return p.kind == "type" and p.value[0] in ("Result.Ok", "Result.Err", "Ok", "Err")


def pattern_text(p):
    if p.kind == "any":
        return "_"
    if p.kind == "lit":
        return repr_value(p.value)
    if p.kind == "type":
        return p.value[0] + ("?" if p.value[1] else "")
    return "expr"


def _snapshot(env):
    if CAP in env:
        snap = dict(env)
        del snap[CAP]
        return snap
    return dict(env)


def call_name(node):
    if isinstance(node, A.Name):
        return node.name
    if isinstance(node, A.QRef):
        return f"{node.ns}/{node.var}"
    return "fn"


def pipe_to_call(node):
    rhs = node.rhs
    if isinstance(rhs, A.Call):
        return A.Call(rhs.loc, rhs.fn, [(False, node.lhs)] + list(rhs.args))
    return A.Call(rhs.loc, rhs, [(False, node.lhs)])


def type_name_of(typeref):
    atoms = [a for a in typeref.atoms if a != "Null"]
    return atoms[0] if len(atoms) == 1 and atoms[0].__class__ is str else None


def vec_item_types(spec):
    """Field name -> item type name for fields annotated `Vec<Item>`."""
    out = {}
    for name, typeref in spec:
        m = re.fullmatch(r"Vec<([^<>,|]+)>\??", typeref.text) if typeref is not None else None
        if m:
            out[name] = m.group(1)
    return out


def flow_shape(typ):
    if typ is None:
        return None
    text = typ.atoms[0] if typ.atoms else None
    if text.__class__ is not str:
        return "value"
    return text


def add_arrow(src, dest, conv):
    # namespaces re-initialise for every execution: replace, never accumulate
    src.arrows = [(d, c) for d, c in src.arrows if d is not dest]
    src.arrows.append((dest, conv))


def literal_value(node):
    """Static value of a meta literal (maps, vecs, strings, numbers); None if not literal."""
    if node is None:
        return None
    if isinstance(node, A.Lit):
        v = node.value
        return v
    if isinstance(node, A.Tmpl):
        if all(isinstance(p, str) for p in node.parts):
            return "".join(node.parts)
        return None
    if isinstance(node, A.VecLit):
        return [literal_value(e) for sp, e in node.items if not sp]
    if isinstance(node, A.MapLit):
        return {k: literal_value(e) for k, e in node.items if k is not None}
    if isinstance(node, A.QRef):
        return f"{node.ns}/{node.var}"
    if isinstance(node, A.Name):
        return node.name
    if isinstance(node, A.Dot):
        base = literal_value(node.obj)
        return f"{base}.{node.name}" if isinstance(base, str) else None
    return None


def bound_names(node):
    """Every name a function body may bind locally (params, bindings, match binds)."""
    names = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Node):
            if isinstance(n, A.Binding):
                names.add(n.name)
            elif isinstance(n, A.Param):
                names.add(n.name)
            elif isinstance(n, A.MatchArm) and n.bind:
                names.add(n.bind)
            for f in n.fields:
                stack.append(getattr(n, f))
        elif isinstance(n, (list, tuple)):
            stack.extend(n)
    return names
