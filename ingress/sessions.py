"""Sessions of MCP's legacy HTTP+SSE transport: a session is a stream of its environment.

The SSE connection (``GET``) follows the session's stream on its web process's hub; a message
``POST``ed to ``…/messages?sessionId=`` — on any process — appends its answer to that stream's
log, and the hub delivers it. The session id is a uuid4: the only key to post into a session.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events import streamlog
from events.hub import get_hub
from events.models import Stream
from hotapi.api.lookups import parse_uuid

MESSAGE_KIND = "mcp:message"


def sse_session_open(*, environment):
    """(the new session's id, the hub subscription that delivers its messages)."""
    session = uuid.uuid4()
    Stream.objects.create(id=session, environment=environment)
    return session, get_hub().subscribe(stream_id=session)


def sse_session_find(*, environment, session_id: str) -> Stream | None:
    """The session's stream while the session lasts (None when unknown or expired)."""
    session = parse_uuid(session_id)
    if session is None:
        return None
    opened_after = timezone.now() - timedelta(seconds=settings.HOT_MCP_SSE_SESSION_SECONDS)
    return Stream.objects.filter(
        pk=session, environment=environment, created_at__gte=opened_after
    ).first()


def sse_session_send(*, stream: Stream, message) -> None:
    with transaction.atomic():
        streamlog.append(
            environment_id=stream.environment_id,
            stream_id=stream.id,
            kind=MESSAGE_KIND,
            payload={"message": message},
        )
