"""Exception types shared by the lexer, parser, evaluator and public API."""

from __future__ import annotations


class HotError(Exception):
    """Base class for every error hotlang raises on purpose."""


class HotSyntaxError(HotError):
    """A source file could not be tokenised or parsed."""

    def __init__(self, message: str, file: str, line: int, col: int):
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        super().__init__(f"{file}:{line}:{col}: {message}")


class LimitExceeded(HotError):
    """An execution limit (steps, time, depth, value size) was hit."""


class HotRuntimeError(HotError):
    """A hard runtime error inside Hot code (bad call, unknown name, type error)."""

    def __init__(self, message: str, loc: tuple | None = None):
        self.message = message
        self.loc = loc
        where = f"{loc[0]}:{loc[1]}:{loc[2]}: " if loc else ""
        super().__init__(where + message)


class Unsupported(HotRuntimeError):
    """A feature or library function this interpreter does not implement."""


class HotHalt(HotError):
    """Execution halted: `fail(...)`, a consumed `Err`, or a failed assertion path.

    `err` is the Hot payload (a Python value in Hot representation).
    """

    def __init__(self, message: str, err=None, kind: str = "fail"):
        self.message = message
        self.err = err
        self.kind = kind
        super().__init__(message)


class Cancelled(HotError):
    """The host asked for cancellation, or Hot code called `cancel`."""

    def __init__(self, message: str = "cancelled", data=None):
        self.data = data
        super().__init__(message)
