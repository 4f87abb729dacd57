"""The host side of Hot code's I/O, as a pure library (no Django, no hotlang): the egress
policy and the outbound HTTP and TCP clients that enforce it, the default text embedding, an
in-memory store, and bundle resources. The platform's run hooks (`runs/host.py`) and hotlang's
command line (`hotlang/localhost.py`) both build on it."""
