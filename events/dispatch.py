"""What happens to a committed event is decided above this app.

``events`` records events; routing them to runs is the ``runs`` app's job, and ``runs`` depends
on ``events``, not the other way round. So publishing ends by calling the handlers registered
here, once the event's transaction has committed; ``runs`` registers its router in
``RunsConfig.ready()``. A handler that fails (say, the broker is down) is logged: the periodic
sweep routes every event still undispatched, so no accepted event is lost.
"""

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

EventCommitted = Callable[[str], None]

_handlers: list[EventCommitted] = []


def on_event_committed(handler: EventCommitted) -> EventCommitted:
    """Register ``handler(event_id)``; registering the same handler twice has no effect."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def event_committed(event_id: str) -> None:
    for handler in _handlers:
        try:
            handler(event_id)
        except Exception:
            log.warning(
                "Could not hand over event %s (%s); the sweep will route it",
                event_id,
                getattr(handler, "__qualname__", handler),
                exc_info=True,
            )
