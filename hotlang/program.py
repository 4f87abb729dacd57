"""Program model: namespaces built from parsed files, and name resolution.

Which functions handle events or run on a schedule is the platform's business (the bundle's
manifest or its source scan); the program only lists functions and tests.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time

from . import ast as A
from .errors import HotError, HotRuntimeError, HotSyntaxError, LimitExceeded
from .evaluator import Compiler, literal_value
from .parser import parse
from .stdlib import CORE, LIB, PRELUDE
from .values import MISSING, ONERR_ENUM, RESULT_ENUM, EnumInfo, TypeInfo, Unresolved


@contextlib.contextmanager
def gc_paused():
    """Building ASTs and closures allocates many small objects; the cyclic GC would rescan
    them over and over (it dominated prepare time on large bundles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class CoreRef:
    """A user var marked `meta {core: true}`: visible everywhere by its bare name."""

    __slots__ = ("ns", "name")

    def __init__(self, ns, name):
        self.ns = ns
        self.name = name


class Namespace:
    def __init__(self, name, program):
        self.name = name
        self.program = program
        self.stmts = []  # (stmt, file)
        self.vars = {}
        self.hoisted = {}
        self.aliases = {}
        self.var_meta = {}
        self.var_loc = {}
        self.var_node = {}
        self.bindings = {}  # name -> its first top-level Binding, known before compiling
        self.meta = None
        self.files = []
        self.state = "new"
        self.code = []
        self.init_error = None

    def reset(self):
        self.vars.clear()
        self.vars.update(self.hoisted)
        self.state = "new"


PRELUDE_DIR = os.path.join(os.path.dirname(__file__), "stdlib", "hot")
_prelude_lock = threading.Lock()


def load_prelude():
    """Compile the part of the library written in Hot (`stdlib/hot/*.hot`: record and enum
    types, small pure helpers) once per process, and add its vars to LIB (natives win) and its
    `meta {core: true}` vars to CORE. Its namespaces initialise here, once, and are never
    reset: they hold definitions, not per-run state."""
    with _prelude_lock:
        if PRELUDE:
            return
        lib_program = Program(prelude=False)
        for name in sorted(os.listdir(PRELUDE_DIR)):
            if name.endswith(".hot"):
                with open(os.path.join(PRELUDE_DIR, name), encoding="utf-8") as f:
                    lib_program.add_source(f"<hotlang>/{name}", f.read())
        lib_program.compile()
        for ns in lib_program.namespaces.values():
            lib_program.ensure_init(ns)
        if lib_program.errors:  # our own sources: a failure here is a bug, never user input
            raise RuntimeError(f"hotlang library sources do not compile: {lib_program.errors}")
        for ns in lib_program.namespaces.values():
            exported = LIB.setdefault(ns.name, {})
            for name, value in ns.vars.items():
                exported.setdefault(name, value)
                meta = ns.var_meta.get(name)
                if isinstance(meta, dict) and meta.get("core") is True:
                    CORE.setdefault(name, value)
        PRELUDE.append(lib_program)


class Program:
    def __init__(self, prelude=True):
        if prelude:
            load_prelude()
        self.namespaces: dict[str, Namespace] = {}
        self.lib = LIB
        self.core = dict(CORE)
        self.errors = []
        self.initialized = []
        self.deadline = None  # time.monotonic() value after which preparation stops
        self.max_prepare_seconds = None
        self.reflection = {}  # tool and skill registries, built on first use

    def check_deadline(self, file):
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.errors.append(
                {
                    "file": file,
                    "line": 0,
                    "col": 0,
                    "message": "preparation time limit exceeded "
                    f"({self.max_prepare_seconds} seconds); the bundle is too large to prepare",
                }
            )
            raise LimitExceeded(self.errors[-1]["message"])

    # -- building ------------------------------------------------------------------------------
    def add_source(self, path, text):
        self.check_deadline(path)
        try:
            stmts = parse(text, path)
        except HotSyntaxError as e:
            self.errors.append({"file": e.file, "line": e.line, "col": e.col, "message": e.message})
            return False
        ns = None
        for s in stmts:
            if isinstance(s, A.NsDecl):
                ns = self.namespaces.get(s.ns)
                if ns is None:
                    ns = self.namespaces[s.ns] = Namespace(s.ns, self)
                if s.meta is not None:
                    ns.meta = literal_value(s.meta)
                ns.files.append(path)
                continue
            if ns is None:
                self.errors.append(
                    {
                        "file": path,
                        "line": s.loc[1],
                        "col": s.loc[2],
                        "message": "code before the namespace declaration "
                        "(expected '::name::space ns')",
                    }
                )
                return False
            if isinstance(s, A.NsAlias):
                ns.aliases[s.alias] = s.target
            if isinstance(s, A.Binding) and not s.path:
                ns.bindings.setdefault(s.name, s)
            ns.stmts.append(s)
        return True

    def compile(self):
        for ns in self.namespaces.values():
            comp = Compiler(ns, self)
            for s in ns.stmts:
                self.check_deadline(s.loc[0])
                try:
                    code = comp.stmt(s, False)
                except HotRuntimeError as e:
                    loc = e.loc or s.loc
                    self.errors.append(
                        {"file": loc[0], "line": loc[1], "col": loc[2], "message": e.message}
                    )
                    continue
                except Exception as e:  # never let one bad statement break prepare()
                    self.errors.append(
                        {
                            "file": s.loc[0],
                            "line": s.loc[1],
                            "col": s.loc[2],
                            "message": f"internal compile error: {type(e).__name__}: {e}",
                        }
                    )
                    continue
                ns.code.append(code)
                if isinstance(s, A.Binding) and not s.path:
                    ns.var_loc[s.name] = s.loc
                    ns.var_node[s.name] = s
                    meta = literal_value(s.meta) if s.meta is not None else None
                    if meta is not None:
                        ns.var_meta[s.name] = meta
                    if isinstance(meta, dict) and meta.get("core") is True:
                        self.core[s.name] = CoreRef(ns, s.name)
                    if isinstance(s.value, (A.FnDef, A.TypeDef)):
                        # hoist definitions so forward references and cycles work
                        code(ns.hoisted)
            ns.reset()

    # -- resolution ----------------------------------------------------------------------------
    def ensure_init(self, ns):
        if ns.state != "new":
            if ns.state == "failed":
                raise self.init_failure(ns)
            return
        ns.state = "running"
        self.initialized.append(ns)
        try:
            for code in ns.code:
                code(ns.vars)
        except HotError as e:
            # not left half-initialised: every later use reports this error
            ns.state = "failed"
            ns.init_error = e
            raise
        ns.state = "done"

    def init_failure(self, ns):
        e = ns.init_error
        return HotRuntimeError(f"namespace {ns.name} failed to initialise: {e}")

    def reset_all(self):
        for ns in self.initialized:
            ns.reset()
        self.initialized = []

    def resolve_name(self, ns, name, loc):
        v = self.core.get(name, MISSING)
        if v is not MISSING:
            if v.__class__ is CoreRef:
                self.ensure_init(v.ns)
                return v.ns.vars.get(v.name)
            return v
        if name == "Result":
            return RESULT_ENUM
        if name == "OnErr":
            return ONERR_ENUM
        if ns.state == "new":
            self.ensure_init(ns)
            v = ns.vars.get(name, MISSING)
            if v is not MISSING:
                return v
        if ns.state == "failed" and name in ns.var_loc:
            raise self.init_failure(ns)
        raise HotRuntimeError(f"unknown name '{name}'", loc)

    def resolve_qualified(self, ns_name, var, loc):
        ns = self.namespaces.get(ns_name)
        if ns is not None:
            self.ensure_init(ns)
            v = ns.vars.get(var, MISSING)
            if v is not MISSING:
                return v, ns.state == "done"
        lib = self.lib.get(ns_name)
        if lib is not None and var in lib:
            return lib[var], True
        if var in ("Result",):
            return RESULT_ENUM, True
        if var in ("OnErr",):
            return ONERR_ENUM, True
        qname = f"{ns_name}/{var}"
        if ns is None and ns_name.startswith("::hot::"):
            # bound as a placeholder: only a use of it fails, not the namespace that names it
            return Unresolved(qname, f"{qname} is not supported by this runtime"), True
        if ns is None:
            return Unresolved(qname, f"unknown namespace {ns_name} (in {qname})"), True
        raise HotRuntimeError(f"unknown var {qname}", loc)

    def resolve_type(self, ns, name):
        if name in ("Result", "OnErr") and not (name in ns.vars or name in ns.hoisted):
            return RESULT_ENUM if name == "Result" else ONERR_ENUM
        if name.startswith("::"):
            nsn, _, var = name.rpartition("/")
            nsn = ns.aliases.get(nsn, nsn)
            target = self.namespaces.get(nsn)
            if target is None:
                v = self.lib.get(nsn, {}).get(var)
                return v if v.__class__ in (TypeInfo, EnumInfo) else None
            v = target.vars.get(var) or target.hoisted.get(var)
        else:
            v = ns.vars.get(name) or ns.hoisted.get(name)
            if v is None:
                c = self.core.get(name)
                if c.__class__ is CoreRef:
                    v = c.ns.vars.get(c.name) or c.ns.hoisted.get(c.name)
        if v.__class__ in (TypeInfo, EnumInfo):
            return v
        return None

    def function_def(self, ns_name, name):
        """The `fn` definition a namespace var is bound to (through aliases), or None."""
        found = self.alias_target(ns_name, name)
        return found[2] if found is not None else None

    def alias_target(self, ns_name, name):
        """(namespace, var, fn definition) a var ends at through alias chains, or None."""
        for _ in range(8):
            ns = self.namespaces.get(ns_name)
            node = ns.bindings.get(name) if ns is not None else None
            value = node.value if node is not None else None
            if isinstance(value, A.FnDef):
                return ns, name, value
            if not isinstance(value, A.QRef):
                return None
            ns_name, name = ns.aliases.get(value.ns, value.ns), value.var
        return None

    def lookup_function(self, qname):
        ns_name, _, var = qname.rpartition("/")
        ns = self.namespaces.get(ns_name)
        if ns is None:
            raise HotRuntimeError(f"unknown namespace {ns_name}")
        self.ensure_init(ns)
        v = ns.vars.get(var, MISSING)
        if v is MISSING:
            raise HotRuntimeError(f"unknown function {qname}")
        return v

    # -- listing -----------------------------------------------------------------------------
    def functions(self):
        out = []
        for ns in self.namespaces.values():
            for name, node in ns.var_node.items():
                if isinstance(node.value, A.FnDef) or isinstance(node.value, A.QRef):
                    out.append(f"{ns.name}/{name}")
        return out

    def tests(self):
        out = []
        for ns in self.namespaces.values():
            for name, node in ns.var_node.items():
                meta = ns.var_meta.get(name)
                is_test = (isinstance(meta, list) and "test" in meta) or (
                    isinstance(meta, dict) and meta.get("test") is True
                )
                if is_test and isinstance(node.value, A.FnDef):
                    out.append((ns, name, node))
        return out
