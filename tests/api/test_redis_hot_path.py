"""The throttle's Lua script called on a connection the thread keeps (``HotPathScript``), against a
real Redis: the same answers as through the client, and every way the connection can go out of
step (a flushed script cache, a server that hung up, an error reply, a reply that came too late)
leaves the next call with its own answer."""

import threading

import pytest
import redis

from hotapi import redis_client as redis_client_module
from hotapi.redis_client import HotPathScript

ECHO = "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[2])}"


@pytest.fixture
def client(redis_url, settings):
    settings.HOT_REDIS_SOCKET_TIMEOUT = 0.3
    redis_client_module.redis_client.cache_clear()
    direct = redis.Redis.from_url(redis_url)
    direct.delete("hot:test:hot-path")
    yield direct
    direct.delete("hot:test:hot-path")
    redis_client_module.redis_client.cache_clear()


def call(script, key="a", arg="1"):
    return script(keys=[key, "hot:test:hot-path"], args=[arg])


def test_answers_as_the_client_does_and_loads_the_script_itself(client):
    client.script_flush()
    script = HotPathScript(ECHO)
    assert call(script) == [b"a", b"1", 1]  # NOSCRIPT at first: loaded, then called
    through_client = client.register_script(ECHO)(keys=["b", "hot:test:hot-path"], args=["2"])
    assert through_client == [b"b", b"2", 2]
    assert call(script, "c", "3") == [b"c", b"3", 3]


def test_a_flushed_script_cache_is_loaded_again(client):
    script = HotPathScript(ECHO)
    assert call(script)[2] == 1
    client.script_flush()
    assert call(script)[2] == 2


def test_a_connection_the_server_closed_is_replaced_without_an_error(client):
    script = HotPathScript(ECHO)
    assert call(script)[2] == 1
    host, port = script._threads.connection._sock.getsockname()[:2]
    assert client.client_kill(f"{host}:{port}")
    assert call(script)[2] == 2  # not a ConnectionError: the poll found the hang-up first


def test_an_error_reply_leaves_the_connection_in_step(client):
    failing = HotPathScript("return redis.error_reply('no such thing')")
    with pytest.raises(redis.ResponseError, match="no such thing"):
        failing(keys=[], args=[])
    script = HotPathScript(ECHO)
    assert call(script)[2] == 1


def test_a_reply_that_came_too_late_is_never_read_by_the_next_call(client):
    # The slow call outlives the 0.3 s socket timeout and fails; its reply arrives later on the
    # same thread's connection and must not be taken as the answer to the next call.
    script = HotPathScript(
        "if ARGV[1] == 'slow' then"
        " local t = redis.call('TIME'); local stop = t[1] * 1e6 + t[2] + 600000;"
        " repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] >= stop end"
        " return ARGV[1]"
    )
    assert script(keys=[], args=["fast"]) == b"fast"
    with pytest.raises(redis.TimeoutError):
        script(keys=[], args=["slow"])
    assert script(keys=[], args=["after"]) == b"after"


def test_each_thread_calls_on_its_own_connection(client):
    script = HotPathScript(ECHO)
    answers, connections = [], set()

    def caller():
        for _ in range(20):
            answers.append(call(script)[2])
        connections.add(id(script._threads.connection))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == list(range(1, 81))
    assert len(connections) == 4
