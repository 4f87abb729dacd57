"""Recursive-descent parser for Hot source files."""

from __future__ import annotations

from decimal import Decimal

from . import ast as A
from .errors import HotSyntaxError
from .lexer import tokenize

FLOW_KEYWORDS = {"serial", "parallel", "cond", "cond-all", "match", "match-all"}
_STOP = {")", "]", "}", ",", "=>", "|>", ":", "|"}


def _is(tok, kind, value=None):
    return tok.kind == kind and (value is None or tok.value == value)


class Parser:
    def __init__(self, tokens, file):
        self.toks = tokens
        self.i = 0
        self.file = file
        self.arg_depth = 0  # how many call argument lists enclose the current expression

    # -- token helpers ------------------------------------------------------------------------
    @property
    def tok(self):
        return self.toks[self.i]

    def peek(self, k=1):
        j = min(self.i + k, len(self.toks) - 1)
        return self.toks[j]

    def advance(self):
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def loc(self, t=None):
        t = t or self.tok
        return (self.file, t.line, t.col)

    def error(self, msg, t=None):
        t = t or self.tok
        raise HotSyntaxError(msg, self.file, t.line, t.col)

    def at(self, value):
        t = self.tok
        return t.kind == "punct" and t.value == value

    def at_name(self, value):
        t = self.tok
        return t.kind == "name" and t.value == value

    def expect(self, value):
        if not self.at(value):
            self.error(f"expected '{value}' but found {self.describe(self.tok)}")
        return self.advance()

    @staticmethod
    def describe(t):
        if t.kind == "eof":
            return "end of input"
        if t.kind in ("punct", "name"):
            return f"'{t.value}'"
        return t.kind

    def skip_commas(self):
        while self.at(","):
            self.advance()

    # -- files and statements -----------------------------------------------------------------
    def parse_file(self):
        stmts = self.parse_statements(top=True)
        if self.tok.kind != "eof":
            self.error(f"unexpected {self.describe(self.tok)}")
        return stmts

    def parse_statements(self, top=False, closer="}"):
        stmts = []
        while True:
            self.skip_commas()
            t = self.tok
            if t.kind == "eof" or (t.kind == "punct" and t.value == closer):
                return stmts
            # a statement starts a new placeholder scope, even inside a call's arguments
            depth, self.arg_depth = self.arg_depth, 0
            try:
                stmts.append(self.parse_statement(top))
            finally:
                self.arg_depth = depth

    def parse_statement(self, top=False):
        t = self.tok
        if t.kind == "qname" and t.value[1] is None:
            nxt = self.peek()
            if nxt.kind == "name" and nxt.value == "ns":
                self.advance()
                self.advance()
                meta = self.parse_meta_opt()
                return A.NsDecl(self.loc(t), t.value[0], meta)
            if nxt.kind == "qname" and nxt.value[1] is None:
                self.advance()
                self.advance()
                return A.NsAlias(self.loc(t), t.value[0], nxt.value[0])
        if t.kind == "name" and self.looks_like_binding():
            return self.parse_binding()
        if t.kind == "name" and _is(self.peek(), "punct", "->"):
            return self.parse_coercion()
        return self.parse_expr()

    def looks_like_binding(self):
        """Scan `name(.f|[x]|[])*` and decide if a value follows (a binding)."""
        t = self.tok
        if t.value in ("fn", "do", "lazy", "true", "false", "null") or t.value in FLOW_KEYWORDS:
            if t.value in FLOW_KEYWORDS or t.value in ("fn", "do", "lazy"):
                # a keyword used as a name is still possible: `match "x"` binds a var named
                # match only if followed by a literal on the same line; treat as keyword.
                return False
            return False
        j = self.i + 1
        toks = self.toks
        while True:
            u = toks[j]
            if u.kind == "punct" and not u.ws and u.value == "." and toks[j + 1].kind == "name":
                j += 2
            elif u.kind == "punct" and not u.ws and u.value == "[":
                depth = 0
                while True:
                    v = toks[j]
                    if v.kind == "eof":
                        return False
                    if v.kind == "punct" and v.value == "[":
                        depth += 1
                    elif v.kind == "punct" and v.value == "]":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                j += 1
            else:
                break
        u = toks[j]
        if u.kind == "punct" and u.value == "(" and not u.ws:
            return False  # a call
        if u.kind == "punct" and u.value == "->":
            return False
        if u.kind == "eof":
            return False
        if u.kind == "punct" and u.value == ":":
            return True
        if u.kind == "punct" and u.value in _STOP:
            return False
        if u.kind == "punct" and u.value in (".", "?", "<", ">", "=", "/"):
            return False
        return True

    def parse_path_target(self):
        name_tok = self.advance()
        path = []
        while True:
            t = self.tok
            if t.kind == "punct" and not t.ws and t.value == ".":
                self.advance()
                path.append(("field", self.advance().value))
            elif t.kind == "punct" and not t.ws and t.value == "[":
                self.advance()
                if self.at("]"):
                    self.advance()
                    path.append(("append", None))
                else:
                    e = self.parse_expr()
                    self.expect("]")
                    path.append(("index", e))
            else:
                return name_tok, path

    def parse_binding(self):
        name_tok, path = self.parse_path_target()
        typ = None
        if self.at(":"):
            self.advance()
            typ = self.parse_type()
        meta = self.parse_meta_opt()
        if self.tok.kind == "punct" and self.tok.value == "->":
            return self.parse_coercion_rest(name_tok)
        value = self.parse_expr()
        if meta is None:
            meta = self.parse_meta_opt()
        return A.Binding(self.loc(name_tok), name_tok.value, path, typ, value, meta)

    def parse_meta_opt(self):
        t = self.tok
        if t.kind == "name" and t.value == "meta":
            nxt = self.peek()
            if (nxt.kind == "punct" and nxt.value in ("{", "[")) or self.literal_meta_follows():
                self.advance()
                return self.parse_primary()
        return None

    def literal_meta_follows(self):
        """`name meta "doc" value`: a scalar literal is the meta when a value still follows it
        in the same statement (`x meta "doc"` alone would leave the binding without a value)."""
        lit = self.toks[self.i + 1]
        scalar = lit.kind in ("str", "int", "dec") or (
            lit.kind == "name" and lit.value in ("true", "false", "null")
        )
        if not scalar:
            return False
        after = self.toks[self.i + 2]
        return after.kind != "eof" and not (after.kind == "punct" and after.value in _STOP)

    def parse_coercion(self):
        name_tok = self.advance()
        return self.parse_coercion_rest(name_tok)

    def parse_coercion_rest(self, name_tok):
        self.expect("->")
        target = self.parse_type()
        meta = self.parse_meta_opt()
        value = None
        t = self.tok
        if t.kind == "name" and t.value == "fn":
            value = self.parse_expr()
        if meta is None:
            self.parse_meta_opt()
        return A.Coercion(self.loc(name_tok), name_tok.value, target, value)

    # -- types ---------------------------------------------------------------------------------
    def parse_type(self):
        start = self.tok
        atoms, shown, display = [], [], []
        self.parse_type_atom(atoms, shown, display)
        while self.at("|"):
            self.advance()
            self.parse_type_atom(atoms, shown, display)
        # the text keeps generic arguments (`Vec<Tag>`); atoms are what dispatch checks;
        # display is the annotation as Hot prints it (reflection, tool schemas)
        text = " | ".join(shown)
        return A.TypeRef(self.loc(start), text, atoms, " | ".join(display))

    def parse_type_atom(self, atoms, shown=None, display=None):
        t = self.tok
        if t.kind == "name" and t.value == "lazy":
            self.advance()
            t = self.tok
        if t.kind == "name":
            self.advance()
            name = t.value
            while self.at(".") and not self.tok.ws:
                self.advance()
                name += "." + self.advance().value
            atom = name
        elif t.kind == "qname":
            self.advance()
            atom = t.value[1] or t.value[0]
            while self.at(".") and not self.tok.ws:
                self.advance()
                atom += "." + self.advance().value
        elif t.kind in ("str", "int", "dec"):
            self.advance()
            atom = ("lit", t.value if t.kind != "dec" else Decimal(t.value))
        elif t.kind == "punct" and t.value in ("{", "[", "("):
            self.skip_balanced()
            atom = "Map" if t.value == "{" else "Vec" if t.value == "[" else "Fn"
            if t.value == "(" and self.at("->"):
                self.advance()
                self.parse_type()
        else:
            self.error(f"expected a type but found {self.describe(t)}")
        generic = ""
        printed = ""
        if self.at("<") and not self.tok.ws:
            start = self.i
            self.skip_balanced()
            generic = "".join(_type_token_text(t) for t in self.toks[start : self.i])
            printed = "".join(_type_token_display(t) for t in self.toks[start : self.i])
            if atom == "All":
                atom += generic
        if self.at("(") and not self.tok.ws and atom in ("Fn",):
            self.skip_balanced()
            if self.at(":"):
                self.advance()
                self.parse_type()
        atoms.append(atom)
        if shown is not None:
            shown.append(str(atom) + ("" if str(atom).endswith(generic) else generic))
        optional = self.at("?") and not self.tok.ws
        if display is not None:
            base = _type_token_display(t)
            if t.kind in ("name", "qname") and atom.__class__ is str and "." in atom:
                base += atom[atom.index(".") :]
            display.append(base + printed + ("?" if optional else ""))
        if optional:
            self.advance()
            atoms.append("Null")
            if shown is not None:
                shown.append("Null")

    def skip_balanced(self):
        pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
        stack = [pairs[self.advance().value]]
        while stack:
            t = self.advance()
            if t.kind == "eof":
                self.error("unbalanced brackets in type")
            if t.kind == "punct":
                if t.value in pairs:
                    stack.append(pairs[t.value])
                elif t.value == stack[-1]:
                    stack.pop()
                elif t.value == "->" and stack[-1] == ">":
                    pass

    # -- expressions ---------------------------------------------------------------------------
    def parse_expr(self):
        lhs = self.parse_postfix(self.parse_primary())
        while self.at("|>"):
            t = self.advance()
            rhs = self.parse_postfix(self.parse_primary())
            lhs = A.Pipe(self.loc(t), lhs, rhs)
        return lhs

    def parse_postfix(self, e):
        while True:
            t = self.tok
            if t.kind != "punct" or t.ws:
                return e
            v = t.value
            if v == "(":
                self.advance()
                self.arg_depth += 1
                try:
                    args = self.parse_args(")")
                finally:
                    self.arg_depth -= 1
                if self.arg_depth == 0 or _takes_functions(e):
                    args = self.wrap_placeholders(args)
                e = A.Call(self.loc(t), e, args)
            elif v == "." and self.peek().kind in ("name", "int"):
                self.advance()
                n = self.advance()
                if n.kind == "int":
                    e = A.Index(self.loc(t), e, A.Lit(self.loc(n), n.value))
                else:
                    e = A.Dot(self.loc(t), e, n.value)
            elif v == "[":
                self.advance()
                idx = self.parse_expr()
                self.expect("]")
                e = A.Index(self.loc(t), e, idx)
            else:
                return e

    def parse_args(self, closer):
        items = []
        while True:
            self.skip_commas()
            if self.at(closer):
                self.advance()
                return items
            if self.at("..."):
                self.advance()
                items.append((True, self.parse_expr()))
            else:
                items.append((False, self.parse_expr()))
            if not self.at(",") and not self.at(closer):
                self.error(f"expected ',' or '{closer}' but found {self.describe(self.tok)}")

    def wrap_placeholders(self, args):
        """A call argument containing free `%` placeholders becomes a lambda.

        Hot wraps at the outermost call boundary, or at an argument that expects a function:
        `map(xs, add(mul(%, 2), 1))` is `map(xs, (x) { add(mul(x, 2), 1) })`. The parser sees
        no types, so "expects a function" means a call to a library function known to take one
        (HIGHER_ORDER). A bare `%` argument is left for the enclosing call to wrap.
        """
        out = []
        for spread, a in args:
            if not isinstance(a, A.Placeholder):
                n = max_placeholder(a)
                if n:
                    a = A.PhLambda(a.loc, a, n, True)
            out.append((spread, a))
        return out

    def parse_primary(self):
        t = self.tok
        k = t.kind
        loc = self.loc(t)
        if k == "int":
            self.advance()
            return A.Lit(loc, t.value)
        if k == "dec":
            self.advance()
            return A.Lit(loc, Decimal(t.value))
        if k == "str":
            self.advance()
            return A.Lit(loc, t.value)
        if k == "tmpl":
            self.advance()
            return self.parse_template(t)
        if k == "qname":
            self.advance()
            if t.value[1] is None:
                return A.NsRef(loc, t.value[0])
            return A.QRef(loc, t.value[0], t.value[1])
        if k == "ph":
            self.advance()
            return A.Placeholder(loc, t.value)
        if k == "name":
            return self.parse_name_primary(t)
        if k == "punct":
            v = t.value
            if v == "[":
                self.advance()
                return A.VecLit(loc, self.parse_args("]"))
            if v == "{":
                return self.parse_brace()
            if v == "(":
                return self.parse_paren()
            if v == "%(":
                self.advance()
                body = self.parse_expr()
                self.expect(")")
                return A.PhLambda(loc, body, max(max_placeholder(body), 1), False)
            if v == "!":
                self.advance()
                e = self.parse_postfix(self.parse_primary())
                return A.Call(loc, A.Name(loc, "not"), [(False, e)])
            if v == "...":
                self.error("spread '...' is only allowed inside [ ], { } or call arguments")
        self.error(f"unexpected {self.describe(t)}")
        return None

    def parse_name_primary(self, t):
        loc = self.loc(t)
        v = t.value
        if v == "true" or v == "false":
            self.advance()
            return A.Lit(loc, v == "true")
        if v == "null":
            self.advance()
            return A.Lit(loc, None)
        nxt = self.peek()
        call_next = nxt.kind == "punct" and nxt.value == "(" and not nxt.ws
        if v == "fn" and not call_next:
            self.advance()
            return self.parse_fn(loc)
        if v in FLOW_KEYWORDS and call_next:
            save = self.i
            self.advance()
            if self.paren_is_lambda():
                ov = self.parse_overload(loc, default_flow=v)
                return A.FnDef(loc, [ov], True)
            self.i = save
        if v in FLOW_KEYWORDS and not call_next:
            self.advance()
            return self.parse_flow(v, loc)
        if v == "do" and not call_next:
            self.advance()
            return A.Do(loc, self.parse_expr())
        if v == "lazy" and not call_next:
            self.advance()
            return A.LazyExpr(loc, self.parse_expr())
        if v in ("type", "enum") and not call_next and self.type_def_follows(nxt):
            self.advance()
            return self.parse_typedef(v, loc)
        self.advance()
        return A.Name(loc, v)

    def type_def_follows(self, nxt):
        if nxt.kind == "punct" and nxt.value in ("{", "("):
            return True
        if nxt.kind == "name" and (nxt.value in ("fn", "open") or nxt.value in FLOW_KEYWORDS):
            return True
        if nxt.kind in ("str", "int", "dec"):
            return True
        return nxt.kind in ("name", "qname") and nxt.line == self.tok.line

    def parse_typedef(self, kind, loc):
        is_open = False
        if self.at_name("open"):
            self.advance()
            is_open = True
        if self.at_name("fn"):
            self.advance()
            fn = self.parse_fn(loc)
            return A.TypeDef(loc, "ctor", fn, is_open)
        if kind == "enum":
            self.expect("{")
            variants = []
            while True:
                self.skip_commas()
                if self.at("}"):
                    self.advance()
                    break
                nt = self.advance()
                if nt.kind not in ("name", "str", "int"):
                    self.error("expected an enum variant", nt)
                payload = None
                if self.at("(") and not self.tok.ws:
                    self.advance()
                    payload = self.parse_type()
                    while self.at(","):
                        self.advance()
                        if not self.at(")"):
                            self.parse_type()
                    self.expect(")")
                elif self.at("{"):
                    self.skip_balanced()
                    payload = "Map"
                self.parse_meta_opt()
                variants.append((nt.value, payload))
            return A.TypeDef(loc, "enum", variants, is_open)
        if self.at("{"):
            fields = self.parse_record_fields()
            if self.at_name("fn"):
                # a record followed by its own constructor overloads
                self.advance()
                return A.TypeDef(loc, "record-ctor", (fields, self.parse_fn(loc)), is_open)
            return A.TypeDef(loc, "type", fields, is_open)
        if self.at("|"):
            self.advance()
        typ = self.parse_type()
        return A.TypeDef(loc, "alias", typ, is_open)

    def parse_record_fields(self):
        self.expect("{")
        fields = []
        while True:
            self.skip_commas()
            if self.at("}"):
                self.advance()
                return fields
            if self.at("..."):
                self.advance()
                fields.append(("...", self.parse_type()))
                continue
            nt = self.advance()
            if nt.kind not in ("name", "str"):
                self.error("expected a field name", nt)
            typ = None
            if self.at(":"):
                self.advance()
                typ = self.parse_type()
            self.parse_meta_opt()
            fields.append((nt.value, typ))

    def parse_template(self, t):
        parts = []
        for p in t.value:
            if isinstance(p, str):
                if p:
                    parts.append(p)
            else:
                toks, line, col = p
                sub = Parser(toks, self.file)
                e = sub.parse_expr()
                if sub.tok.kind != "eof":
                    sub.error(f"unexpected {sub.describe(sub.tok)} in template interpolation")
                parts.append(e)
        return A.Tmpl(self.loc(t), parts)

    def parse_brace(self):
        """`{` starts a map if followed by `}`, `...`, or a key then `:` or `,`."""
        t = self.tok
        a, b = self.peek(1), self.peek(2)
        is_map = (a.kind == "punct" and a.value in ("}", "...")) or (
            a.kind in ("name", "str", "int") and b.kind == "punct" and b.value in (":", ",")
        )
        if is_map:
            return self.parse_map()
        self.advance()
        stmts = self.parse_statements()
        self.expect("}")
        return A.Flow(self.loc(t), "serial", None, stmts, None)

    def parse_map(self):
        t = self.expect("{")
        items = []
        while True:
            self.skip_commas()
            if self.at("}"):
                self.advance()
                return A.MapLit(self.loc(t), items)
            if self.at("..."):
                self.advance()
                items.append((None, self.parse_expr()))
                continue
            kt = self.advance()
            if kt.kind not in ("name", "str", "int"):
                self.error(f"expected a map key but found {self.describe(kt)}", kt)
            if self.at(":"):
                self.advance()
                items.append((kt.value, self.parse_expr()))
            else:
                if kt.kind != "name":
                    self.error("a punned map key must be a name", kt)
                items.append((kt.value, A.Name(self.loc(kt), kt.value)))

    def parse_paren(self):
        """`(params) {body}` is a lambda; otherwise a parenthesised expression."""
        start = self.i
        t = self.tok
        if self.paren_is_lambda():
            ov = self.parse_overload(self.loc(t), default_flow="serial")
            return A.FnDef(self.loc(t), [ov], True)
        self.i = start
        self.advance()
        e = self.parse_expr()
        self.expect(")")
        return e

    def paren_is_lambda(self):
        # find matching ')' and check what follows: '{', ':' or a flow keyword
        depth = 0
        j = self.i
        toks = self.toks
        while True:
            u = toks[j]
            if u.kind == "eof":
                return False
            if u.kind == "punct" and u.value in ("(", "%("):
                depth += 1
            elif u.kind == "punct" and u.value == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        u = toks[j + 1]
        if u.kind == "punct" and u.value in ("{", ":"):
            return True
        return u.kind == "name" and u.value in FLOW_KEYWORDS

    def parse_fn(self, loc):
        overloads = []
        flow = "serial"
        while True:
            t = self.tok
            if t.kind == "name" and t.value in FLOW_KEYWORDS:
                flow = self.advance().value
            if not self.at("("):
                self.error(f"expected '(' to start function parameters, found {self.describe(t)}")
            overloads.append(self.parse_overload(self.loc(), flow))
            if self.at(",") and self.overload_follows():
                self.advance()
                continue
            return A.FnDef(loc, overloads, False)

    def overload_follows(self):
        a = self.peek(1)
        if a.kind == "name" and a.value in FLOW_KEYWORDS:
            a = self.peek(2)
            return a.kind == "punct" and a.value == "("
        if not (a.kind == "punct" and a.value == "("):
            return False
        save = self.i
        self.i += 1
        try:
            return self.paren_is_lambda()
        finally:
            self.i = save

    def parse_overload(self, loc, default_flow):
        self.expect("(")
        params = []
        while True:
            self.skip_commas()
            if self.at(")"):
                self.advance()
                break
            lazy = variadic = False
            if self.at_name("lazy") and self.peek().kind == "name":
                self.advance()
                lazy = True
            if self.at("..."):
                self.advance()
                variadic = True
            nt = self.advance()
            if nt.kind != "name":
                self.error(f"expected a parameter name but found {self.describe(nt)}", nt)
            typ = None
            if self.at(":"):
                self.advance()
                typ = self.parse_type()
            params.append(A.Param(self.loc(nt), nt.value, typ, lazy, variadic))
        ret = None
        if self.at(":"):
            self.advance()
            ret = self.parse_type()
        flow = default_flow
        if self.tok.kind == "name" and self.tok.value in FLOW_KEYWORDS:
            flow = self.advance().value
        body = self.parse_flow_body(flow)
        return A.Overload(loc, params, ret, flow, body)

    def parse_flow_body(self, flow):
        self.expect("{")
        if flow in ("cond", "cond-all"):
            body = self.parse_cond_arms()
        elif flow in ("match", "match-all"):
            body = self.parse_match_arms()
        else:
            body = self.parse_statements()
        self.expect("}")
        return body

    def parse_flow(self, kind, loc):
        subject = None
        if kind in ("match", "match-all"):
            subject = self.parse_expr()
        body = self.parse_flow_body(kind)
        return A.Flow(loc, kind, subject, body, None)

    def parse_cond_arms(self):
        arms = []
        while True:
            self.skip_commas()
            if self.at("}"):
                return arms
            t = self.tok
            pred = None
            if not self.at("=>"):
                pred = self.parse_expr()
            self.expect("=>")
            label, value = self.parse_arm_value()
            arms.append(A.CondArm(self.loc(t), pred, label, value))

    def parse_arm_value(self):
        t = self.tok
        if t.kind == "name" and _is(self.peek(), "punct", "{") and not self.looks_like_call(t):
            label = self.advance().value
            return label, self.parse_block()
        return None, self.parse_expr()

    def looks_like_call(self, t):
        return t.value in FLOW_KEYWORDS or t.value in ("fn", "do", "lazy", "type", "enum")

    def parse_block(self):
        t = self.expect("{")
        stmts = self.parse_statements()
        self.expect("}")
        return A.Flow(self.loc(t), "serial", None, stmts, None)

    def parse_match_arms(self):
        arms = []
        while True:
            self.skip_commas()
            if self.at("}"):
                return arms
            t = self.tok
            patterns = []
            bind = None
            if not self.at("=>"):
                patterns.append(self.parse_pattern())
                while self.at("|"):
                    self.advance()
                    patterns.append(self.parse_pattern())
                if self.at("("):
                    self.advance()
                    bind = self.advance().value
                    self.expect(")")
            self.expect("=>")
            label, value = self.parse_arm_value()
            arms.append(A.MatchArm(self.loc(t), patterns, bind, value, label))

    def parse_pattern(self):
        t = self.tok
        loc = self.loc(t)
        if t.kind == "name" and t.value == "_":
            self.advance()
            return A.Pattern(loc, "any", None)
        if t.kind == "name" and t.value in ("true", "false", "null"):
            self.advance()
            return A.Pattern(loc, "lit", {"true": True, "false": False, "null": None}[t.value])
        if t.kind in ("int", "str"):
            self.advance()
            return A.Pattern(loc, "lit", t.value)
        if t.kind == "dec":
            self.advance()
            return A.Pattern(loc, "lit", Decimal(t.value))
        if t.kind == "tmpl":
            self.advance()
            return A.Pattern(loc, "expr", self.parse_template(t))
        if t.kind == "punct" and t.value in ("[", "{"):
            return A.Pattern(loc, "expr", self.parse_primary())
        if t.kind in ("name", "qname"):
            atoms = []
            self.parse_type_atom(atoms)
            name = atoms[0]
            return A.Pattern(loc, "type", (name, len(atoms) > 1))
        self.error(f"expected a match pattern but found {self.describe(t)}")
        return None


# library functions with function parameters, where an argument containing `%` is a lambda
HIGHER_ORDER = frozenset(
    """map pmap map-indexed for-each filter remove filter-keys filter-vals map-keys map-vals
    reduce mapcat sort-by some all any every find-first find-index find group-by index-by
    partition-by min-by max-by walk prewalk postwalk update update-in take-while drop-while
    keep iterate call apply if-ok if-err map-ok map-err and-then each count-by sum-by
    ok-or-else tap""".split()
)


def _takes_functions(callee) -> bool:
    if isinstance(callee, A.Name):
        return callee.name in HIGHER_ORDER
    return isinstance(callee, A.QRef) and callee.var in HIGHER_ORDER


def _type_token_text(t):
    if t.kind == "qname":
        ns, var = t.value
        return f"{ns}/{var}" if var else ns
    return str(t.value)


def _type_token_display(t):
    """One token of a type annotation as Hot prints types: `Map<Str, Str>?`, `"a" | "b"`."""
    if t.kind == "qname":
        return _type_token_text(t)
    if t.kind == "str":
        return f'"{t.value}"'
    if t.kind == "punct":
        return {",": ", ", "|": " | ", "{": "Map", "[": "Vec", "(": "Fn"}.get(t.value, t.value)
    return str(t.value)


def max_placeholder(node) -> int:
    """Highest placeholder index used freely (not inside a nested lambda) in node."""
    if isinstance(node, A.Placeholder):
        return node.n
    if isinstance(node, (A.PhLambda, A.FnDef)):
        return 0
    best = 0
    for f in node.fields:
        v = getattr(node, f)
        best = max(best, _max_in(v))
    return best


def _max_in(v):
    if isinstance(v, A.Node):
        return max_placeholder(v)
    if isinstance(v, (list, tuple)):
        best = 0
        for x in v:
            best = max(best, _max_in(x))
        return best
    return 0


def parse(src: str, file: str = "<input>"):
    """Parse a whole source file into a list of top-level statements."""
    return Parser(tokenize(src, file), file).parse_file()
