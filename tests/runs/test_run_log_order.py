"""A run's log lines are written before its outcome: whoever sees the run finish (an SSE
client, a webhook call waiting for its run) finds every line already there."""

import pytest

from events.services import EventSource, event_publish
from runs import execution, extensions
from runs.models import RunLog, RunType
from runs.routing import event_route
from tests.runs import deploy, hot_bundle

SOURCE = """
::app::main ns

shout fn (event) {
  println("first line")
  println(`got ${event.data.word}`)
  event.data.word
}

crash fn (event) {
  println("about to fail")
  fail("no luck")
}
"""


@pytest.fixture
def lines_at_finish():
    """The log lines each run had when its terminal change was recorded (in that transaction;
    a listener makes the run finish in a transaction, see ``runs.extensions``)."""
    seen = {}

    def listener(run, kind):
        if kind in ("run:stop", "run:fail"):
            seen[run.pk] = list(
                RunLog.objects.filter(run_id=run.pk)
                .order_by("sequence")
                .values_list("message", flat=True)
            )

    extensions.on_run_change(listener, run_types=[RunType.EVENT])
    yield seen
    extensions._listeners.remove((listener, frozenset([RunType.EVENT])))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("event_type", "status", "expected"),
    [
        ("word.shout", "succeeded", ["first line", "got hello"]),
        ("word.crash", "failed", ["about to fail"]),
    ],
)
def test_log_lines_are_stored_before_the_run_finishes(
    api, environment, project, lines_at_finish, event_type, status, expected
):
    deploy(api, hot_bundle(SOURCE, [("word.shout", "shout"), ("word.crash", "crash")]))
    event = event_publish(
        environment=environment,
        event_type=event_type,
        event_data={"word": "hello"},
        source=EventSource.CLIENT,
    )
    (run_id,) = event_route(event_id=event.pk)
    assert execution.execute_run(run_id=run_id) == status
    assert lines_at_finish[run_id] == expected
