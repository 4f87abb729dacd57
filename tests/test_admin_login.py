"""Admin logins are throttled (reliability review A7: 60 wrong passwords in 17 s went through,
and the right one was accepted right after)."""

import pytest

pytestmark = pytest.mark.django_db


def _login(client, password: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops", "password": password},
        REMOTE_ADDR="203.0.113.9",
    )


def test_an_address_is_locked_out_after_repeated_failures(client, django_user_model, settings):
    django_user_model.objects.create_superuser("ops", "ops@example.com", "right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200  # the form again, with an error
    assert _login(client, "wrong").status_code == 429  # the limit is reached
    assert _login(client, "right-password-1").status_code == 429  # even the right password
    other = client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops", "password": "right-password-1"},
        REMOTE_ADDR="198.51.100.2",
    )
    assert other.status_code == 302  # another address logs in


def test_a_success_resets_the_count(client, django_user_model, settings):
    django_user_model.objects.create_superuser("ops", "ops@example.com", "right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    assert _login(client, "right-password-1").status_code == 302
    client.logout()
    assert _login(client, "wrong").status_code == 200
