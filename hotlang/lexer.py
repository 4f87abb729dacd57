"""Tokeniser for Hot source text.

Every token records its line/column and whether whitespace (or a comment) precedes it,
because Hot distinguishes `f(x)` (call) from `f (x) {...}` (binding a lambda) by spacing.
"""

from __future__ import annotations

import bisect
import re

from .errors import HotSyntaxError

_IDENT = re.compile(r"[^\W\d][\w$-]*|\$[\w$-]*")
_NUMBER = re.compile(
    r"-?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)"
)
_WS = re.compile(r"(?:[ \t\r\n\ufeff]+|//[^\n]*|/\*.*?\*/)+", re.S)
_PUNCTS = ("...", "=>", "|>", "->", "%(")
_SINGLE = set("(){}[]<>,.:/|?!@=&*+#;~^'\\-")


class Token:
    __slots__ = ("kind", "value", "line", "col", "ws", "end")

    def __init__(self, kind, value, line, col, ws, end=0):
        self.kind = kind  # name qname int dec str tmpl ph punct eof
        self.value = value
        self.line = line
        self.col = col
        self.ws = ws  # whitespace/comment precedes this token
        self.end = end  # offset just past the token

    def __repr__(self):
        return f"Token({self.kind},{self.value!r},{self.line}:{self.col})"


_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    '"': '"',
    "\\": "\\",
    "0": "\0",
    "'": "'",
    "`": "`",
    "$": "$",
    "/": "/",
    "b": "\b",
    "f": "\f",
}


def strip_block_indent(raw: str) -> str:
    """Indent-aware block text: the closing delimiter's column is the base indentation."""
    if raw.startswith("\r\n"):
        raw = raw[2:]
    elif raw.startswith("\n"):
        raw = raw[1:]
    lines = raw.split("\n")
    last = lines[-1]
    if last.strip() == "" and len(lines) > 1:
        indent = len(last)
        lines = lines[:-1]
    else:
        indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    out = []
    for ln in lines:
        k = 0
        while k < indent and k < len(ln) and ln[k] in " \t":
            k += 1
        out.append(ln[k:])
    return "\n".join(out)


class Lexer:
    def __init__(self, src: str, file: str = "<input>"):
        self.src = src
        self.file = file
        self.n = len(src)
        # line start offsets, to turn an offset into line/col
        self.starts = [0]
        for m in re.finditer("\n", src):
            self.starts.append(m.end())

    def pos(self, off):
        i = bisect.bisect_right(self.starts, off) - 1
        return i + 1, off - self.starts[i] + 1

    def error(self, msg, off):
        line, col = self.pos(off)
        raise HotSyntaxError(msg, self.file, line, col)

    def tokenize(self):
        toks, end = self.lex_until(0, None)
        line, col = self.pos(end)
        toks.append(Token("eof", None, line, col, True, end))
        return toks

    def lex_until(self, i, closer):
        """Lex from offset i; if closer is '}', stop at the unmatched closing brace."""
        src, n = self.src, self.n
        toks = []
        depth = 0
        ws = True
        while True:
            m = _WS.match(src, i)
            if m:
                i = m.end()
                ws = True
            if i >= n:
                if closer:
                    self.error("unterminated template interpolation", i)
                return toks, i
            c = src[i]
            start = i
            if c == "/" and src.startswith("/*", i):
                self.error("unterminated block comment", i)
            if c.isalpha() or c == "_" or c == "$":
                m = _IDENT.match(src, i)
                i = m.end()
                kind, val = "name", m.group()
            elif c.isdigit() or (c == "-" and i + 1 < n and src[i + 1].isdigit()):
                m = _NUMBER.match(src, i)
                i = m.end()
                txt = m.group().replace("_", "")
                if any(p in txt.lower() for p in ("0x", "0b", "0o")):
                    neg = txt.startswith("-")
                    v = int(txt.lstrip("-"), 0)
                    kind, val = "int", -v if neg else v
                elif "." in txt or "e" in txt or "E" in txt:
                    kind, val = "dec", txt
                else:
                    kind, val = "int", int(txt)
            elif c == ":" and src.startswith("::", i):
                kind, val, i = self.lex_qname(i)
            elif c == '"':
                if src.startswith('"""', i):
                    j = src.find('"""', i + 3)
                    if j < 0:
                        self.error("unterminated block string", i)
                    kind, val = "str", strip_block_indent(src[i + 3 : j])
                    i = j + 3
                else:
                    kind = "str"
                    val, i = self.lex_string(i)
            elif c == "`":
                kind = "tmpl"
                if src.startswith("```", i):
                    val, i = self.lex_template(i + 3, "```", block=True)
                else:
                    val, i = self.lex_template(i + 1, "`", block=False)
            elif c == "%":
                if src.startswith("%(", i):
                    kind, val = "punct", "%("
                    i += 2
                else:
                    j = i + 1
                    while j < n and src[j].isdigit():
                        j += 1
                    kind, val = "ph", int(src[i + 1 : j] or "1")
                    i = j
            else:
                for p in _PUNCTS:
                    if src.startswith(p, i):
                        kind, val = "punct", p
                        i += len(p)
                        break
                else:
                    if c not in _SINGLE:
                        self.error(f"unexpected character {c!r}", i)
                    kind, val = "punct", c
                    i += 1
                    if closer and c == "{":
                        depth += 1
                    elif closer and c == "}":
                        if depth == 0:
                            return toks, i
                        depth -= 1
            line, col = self.pos(start)
            toks.append(Token(kind, val, line, col, ws, i))
            ws = False

    def lex_qname(self, i):
        """`::a::b` (namespace) or `::a::b/var` (qualified var)."""
        src = self.src
        parts = []
        while src.startswith("::", i):
            m = _IDENT.match(src, i + 2)
            if not m:
                break
            parts.append(m.group())
            i = m.end()
        if not parts:
            self.error("expected a namespace name after '::'", i)
        var = None
        if (
            i < self.n
            and src[i] == "/"
            and not src.startswith("//", i)
            and not src.startswith("/*", i)
        ):
            m = _IDENT.match(src, i + 1)
            if m:
                var = m.group()
                i = m.end()
        return "qname", ("::" + "::".join(parts), var), i

    def lex_string(self, i):
        src, n = self.src, self.n
        out = []
        j = i + 1
        while True:
            if j >= n:
                self.error("unterminated string", i)
            c = src[j]
            if c == '"':
                return "".join(out), j + 1
            if c == "\\":
                s, j = self.escape(j)
                out.append(s)
                continue
            out.append(c)
            j += 1

    def escape(self, j):
        src = self.src
        e = src[j + 1 : j + 2]
        if e in _ESCAPES:
            return _ESCAPES[e], j + 2
        if e == "u":
            if src.startswith("{", j + 2):
                k = src.find("}", j + 3)
                if k < 0:
                    self.error("bad unicode escape", j)
                try:
                    return chr(int(src[j + 3 : k], 16)), k + 1
                except ValueError:
                    self.error("bad unicode escape", j)
            hexd = src[j + 2 : j + 6]
            try:
                return chr(int(hexd, 16)), j + 6
            except ValueError:
                return "\\u", j + 2
        if e == "x":
            try:
                return chr(int(src[j + 2 : j + 4], 16)), j + 4
            except ValueError:
                return "\\x", j + 2
        # unknown escapes (regex text like \d) are kept verbatim
        return "\\" + e, j + 2

    def lex_template(self, i, close, block):
        """Returns (parts, end): parts are str or (tokens, line, col) for `${...}`."""
        src, n = self.src, self.n
        parts = []
        buf = []
        j = i
        start = i - len(close)
        while True:
            if j >= n:
                self.error("unterminated template string", start)
            if src.startswith(close, j):
                j += len(close)
                break
            c = src[j]
            if c == "\\" and not block:
                s, j = self.escape(j)
                buf.append(s)
                continue
            if c == "$" and src.startswith("${", j):
                parts.append("".join(buf))
                buf = []
                line, col = self.pos(j)
                toks, j = self.lex_until(j + 2, "}")
                eline, ecol = self.pos(j)
                toks.append(Token("eof", None, eline, ecol, True, j))
                parts.append((toks, line, col))
                continue
            buf.append(c)
            j += 1
        parts.append("".join(buf))
        if block:
            parts = _strip_template_indent(parts)
        return parts, j


def _strip_template_indent(parts):
    # Strip indentation over the literal pieces using a marker for interpolations.
    marker = "\x00"
    joined = "".join(p if isinstance(p, str) else marker for p in parts)
    stripped = strip_block_indent(joined)
    pieces = stripped.split(marker)
    exprs = [p for p in parts if not isinstance(p, str)]
    out = []
    for k, piece in enumerate(pieces):
        out.append(piece)
        if k < len(exprs):
            out.append(exprs[k])
    return out


def tokenize(src: str, file: str = "<input>"):
    return Lexer(src, file).tokenize()
