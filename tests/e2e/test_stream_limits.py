"""Open SSE streams per API key are limited (reliability review C8: 500 streams from one key
were all accepted)."""

import contextlib

import httpx
import pytest
from django.conf import settings

from environments.services import api_key_issue
from tests.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _open(server, token):
    client = httpx.Client(timeout=10)
    request = client.build_request(
        "GET",
        f"{server.url}/v1/env/subscribe",
        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
    )
    return client, client.send(request, stream=True)


# A Redis call that times out lets the stream open (an outage must not close the API); on a
# loaded CI machine the default 0.25 s could expire, so the servers here wait longer.
PATIENT_REDIS = {"HOT_REDIS_SOCKET_TIMEOUT": "5"}


def test_streams_per_key_are_limited_until_one_closes(make_hot_server, environment):
    server = make_hot_server(
        HOT_SSE_MAX_STREAMS_PER_KEY="2", HOT_SSE_STREAM_SECONDS="60", **PATIENT_REDIS
    )
    token = api_key_issue(environment=environment, name="streams").token
    other = api_key_issue(environment=environment, name="other").token
    with contextlib.ExitStack() as stack:
        opened = []
        for _ in range(2):
            client, response = _open(server, token)
            stack.callback(client.close)
            stack.callback(response.close)
            assert response.status_code == 200
            opened.append((client, response))

        client, refused = _open(server, token)
        stack.callback(client.close)
        refused.read()
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_streams"

        client, another_key = _open(server, other)  # the limit is per key
        stack.callback(client.close)
        stack.callback(another_key.close)
        assert another_key.status_code == 200

        # A closed stream frees its slot once the server notices the disconnect.
        opened[0][1].close()
        opened[0][0].close()

        def reopened():
            client, response = _open(server, token)
            stack.callback(client.close)
            stack.callback(response.close)
            return response.status_code == 200

        wait_for(reopened, timeout=20, message="a freed stream slot")

        if settings.REDIS_URL:  # shared by every web process
            second = make_hot_server(HOT_SSE_MAX_STREAMS_PER_KEY="2", **PATIENT_REDIS)
            client, elsewhere = _open(second, token)
            stack.callback(client.close)
            elsewhere.read()
            assert elsewhere.status_code == 429
