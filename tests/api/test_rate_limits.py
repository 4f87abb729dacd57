"""Rate limits: the hourly quota and the per-second burst limit, their headers, failing open
when Redis is unreachable, and the official SDK's retry on 429 against a live server."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hot import HotClient

from environments.services import api_key_issue
from hotapi import redis_client as redis_client_module
from hotapi.api import throttling
from tests.live import free_port

HOUR = 3600


@pytest.fixture
def frozen(monkeypatch):
    """Requests in one test land in the same second, at a known moment."""
    moment = {"now": 1_900_000_000.25}
    monkeypatch.setattr(throttling, "clock", lambda: moment["now"])
    return moment


@pytest.mark.django_db
def test_every_response_carries_the_hourly_quota(api, environment, frozen):
    environment.requests_per_hour = 10
    environment.save()
    first = api.get("/v1/env")
    second = api.get("/v1/projects")
    assert first["X-RateLimit-Limit"] == second["X-RateLimit-Limit"] == "10"
    assert (first["X-RateLimit-Remaining"], second["X-RateLimit-Remaining"]) == ("9", "8")
    reset = int(first["X-RateLimit-Reset"])
    assert reset % HOUR == 0 and 0 < reset - frozen["now"] <= HOUR


@pytest.mark.django_db
def test_the_hourly_quota_says_when_its_window_ends(api, environment, frozen):
    environment.requests_per_hour = 2
    environment.save()
    api.get("/v1/env")
    api.get("/v1/env")
    refused = api.get("/v1/env")
    assert refused.status_code == 429 and refused["X-RateLimit-Remaining"] == "0"
    wait = int(refused["Retry-After"])
    assert wait == refused.json()["error"]["retry_after"]
    assert wait == int(refused["X-RateLimit-Reset"]) - int(frozen["now"])


@pytest.mark.django_db
def test_the_burst_limit_refuses_for_one_second_only(api, environment, frozen):
    environment.requests_per_second = 3
    environment.save()
    assert [api.get("/v1/env").status_code for _ in range(3)] == [200] * 3
    refused = api.get("/v1/env")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1" and refused.json()["error"]["retry_after"] == 1
    # A request refused by the burst limit is not charged to the hourly quota.
    assert refused["X-RateLimit-Remaining"] == str(environment.requests_per_hour - 3)
    frozen["now"] += 1
    assert api.get("/v1/env").status_code == 200


@pytest.mark.django_db
def test_unlimited_environments_get_no_headers(api, environment):
    environment.requests_per_hour = 0
    environment.requests_per_second = 0
    environment.save()
    response = api.get("/v1/env")
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response


def _set_limits(environment, *, hourly: int, burst: int) -> None:
    environment.requests_per_hour = hourly
    environment.requests_per_second = burst
    environment.save()


@pytest.fixture
def script_calls(redis_url, monkeypatch):
    """The throttle's round trips to Redis, recorded as they go out."""
    calls: list[dict] = []
    real = throttling._script

    def recording(**arguments):
        calls.append(arguments)
        return real(**arguments)

    monkeypatch.setattr(throttling, "_script", recording)
    return calls


@pytest.mark.django_db
def test_far_from_the_limit_requests_are_counted_from_a_block(
    api, environment, frozen, script_calls
):
    _set_limits(environment, hourly=100_000, burst=0)
    remaining = [int(api.get("/v1/env")["X-RateLimit-Remaining"]) for _ in range(70)]
    assert remaining == list(range(99_999, 99_999 - 70, -1))  # one count per request
    assert len(script_calls) == 2  # a block of 64 counts, then the next


@pytest.mark.django_db
def test_near_the_limit_every_request_is_counted_in_redis(api, environment, frozen, script_calls):
    _set_limits(environment, hourly=20, burst=0)
    statuses = [api.get("/v1/env").status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]
    assert len(script_calls) == 21  # under 16 counts per block share left: one at a time


@pytest.mark.django_db
def test_a_burst_limit_takes_blocks_of_its_own_window(api, environment, frozen, script_calls):
    _set_limits(environment, hourly=100_000, burst=40)
    statuses = [api.get("/v1/env").status_code for _ in range(41)]
    assert statuses == [200] * 40 + [429]
    # 2 counts, then 2, then 1 at a time from 15 left; the hour's block of 64 is kept.
    assert len(script_calls) < 41
    assert sum(call["args"][3] for call in script_calls) == 1
    frozen["now"] += 1
    assert api.get("/v1/env").status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_processes_sharing_a_limit_never_allow_more_than_it(
    make_hot_server, environment, redis_url
):
    limit = 200
    _set_limits(environment, hourly=limit, burst=0)
    servers = [make_hot_server(REDIS_URL=redis_url) for _ in range(2)]
    token = api_key_issue(environment=environment, name="shared").token

    def hammer(server) -> list[int]:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            return [http.get(f"{server.url}/v1/env").status_code for _ in range(50)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(hammer, servers * 4))
    statuses = [status for result in results for status in result]
    allowed = statuses.count(200)
    assert set(statuses) == {200, 429}
    # Never more than the limit; fewer by at most the other process's last block.
    first_block = limit // throttling.BLOCK_SHARE
    assert limit - first_block <= allowed <= limit


@pytest.fixture
def unreachable_redis(settings, monkeypatch):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    redis_client_module.redis_client.cache_clear()
    monkeypatch.setattr(throttling, "_redis_state", {"retry_at": 0.0, "failing": False})
    monkeypatch.setattr(throttling, "_local", throttling.LocalCounters())
    yield
    redis_client_module.redis_client.cache_clear()


@pytest.mark.django_db
def test_the_limiter_fails_open_to_a_local_count_when_redis_is_down(
    api, environment, unreachable_redis, caplog, frozen
):
    environment.requests_per_hour = 3
    environment.save()
    started = time.monotonic()
    statuses = [api.get("/v1/env").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # still limited, per process
    assert time.monotonic() - started < 2  # one short timeout, then Redis is left alone
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1


# --- the official SDK against a live server --------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_sdk_retries_a_burst_429_and_succeeds(make_hot_server, environment):
    environment.requests_per_second = 2
    environment.save()
    server = make_hot_server()
    token = api_key_issue(environment=environment, name="sdk").token
    statuses: list[int] = []
    http = httpx.Client(
        timeout=10,
        event_hooks={"response": [lambda response: statuses.append(response.status_code)]},
    )
    with HotClient(token=token, base_url=server.url, client=http) as sdk:
        started = time.monotonic()
        names = [sdk.env.get()["name"] for _ in range(6)]
        elapsed = time.monotonic() - started
    http.close()
    assert names == ["testing"] * 6
    assert 429 in statuses  # the limit was hit, and the SDK's retry got through
    assert elapsed < 10  # waits of a second, not of the hour


def test_concurrent_first_uses_share_one_redis_client(settings, monkeypatch):
    # Each concurrent first caller built its own client; the losers were garbage-collected
    # (closing their sockets) while their calls ran: 500s on a fresh threaded server.
    import threading

    settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:1/0"  # never connected here
    redis_client_module.redis_client.cache_clear()
    build = redis_client_module.redis.Redis.from_url

    def slow_build(*args, **kwargs):  # widens the window the threads raced in
        time.sleep(0.02)
        return build(*args, **kwargs)

    monkeypatch.setattr(redis_client_module.redis.Redis, "from_url", slow_build)
    clients, start = [], threading.Barrier(16)

    def first_use():
        start.wait()
        clients.append(redis_client_module.redis_client())

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    redis_client_module.redis_client.cache_clear()
    assert len(clients) == 16 and len({id(client) for client in clients}) == 1
