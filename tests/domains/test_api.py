"""Custom domains: registration, DNS records to create, verification by a real DNS lookup (of a
DNS server this test runs on loopback), the offline failure path, deletion."""

import socket

import pytest

from domains.models import Domain
from tests.dns_server import LocalDnsServer

pytestmark = pytest.mark.django_db

DOMAIN_FIELDS = {
    "domain_id",
    "env_id",
    "domain",
    "status",
    "dns_records",
    "routing_domain",
    "created_at",
    "verified_at",
    "activated_at",
    "checked_at",
    "check_message",
}


@pytest.fixture
def dns_server(settings):
    server = LocalDnsServer()
    settings.HOT_DNS_NAMESERVERS = [server.address]
    settings.HOT_DNS_TIMEOUT_SECONDS = 2
    yield server
    server.stop()


def _create(api, name="hooks.example.com"):
    response = api.post("/v1/domains", {"domain": name}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def _challenge(domain: dict) -> dict:
    (record,) = [r for r in domain["dns_records"] if r["purpose"] == "ownership_validation"]
    return record


def test_register_shows_the_records_to_create(api, environment, settings):
    settings.HOT_DOMAIN_TARGET = "ingress.hot.example.net"
    domain = _create(api, "Hooks.Example.COM.")
    assert set(domain) == DOMAIN_FIELDS
    assert domain["domain"] == "hooks.example.com"
    assert domain["status"] == "pending_validation"
    assert domain["env_id"] == str(environment.id)
    challenge = _challenge(domain)
    assert challenge["type"] == "TXT"
    assert challenge["name"] == "_hot-challenge.hooks.example.com"
    assert challenge["value"].startswith("hot-domain-verification=")
    traffic = [r for r in domain["dns_records"] if r["purpose"] == "traffic"]
    assert traffic == [
        {
            "type": "CNAME",
            "name": "hooks.example.com",
            "value": "ingress.hot.example.net",
            "purpose": "traffic",
        }
    ]
    assert domain["routing_domain"] == "ingress.hot.example.net"
    listed = api.get("/v1/domains").json()
    assert listed["pagination"]["total"] == 1
    assert api.get(f"/v1/domains/{domain['domain_id']}").json()["data"] == domain


@pytest.mark.parametrize(
    "name",
    [
        "",
        "localhost",
        "https://example.com",
        "example.com/path",
        "-bad.example.com",
        "a..b.com",
        "1.2.3.4",
        "ünï.example.com",
        "x" * 64 + ".com",
    ],
)
def test_invalid_names_are_400(api, name):
    response = api.post("/v1/domains", {"domain": name}, format="json")
    assert response.status_code == 400
    assert "domain" in response.json()["error"]["details"]


def test_duplicates_and_limit(api, other_api, settings):
    _create(api)
    again = api.post("/v1/domains", {"domain": "hooks.example.com"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "domain_exists"
    # Another environment may claim the name too: only one can prove it (below).
    _create(other_api)
    settings.HOT_DOMAINS_PER_ENVIRONMENT = 1
    response = api.post("/v1/domains", {"domain": "mcp.example.com"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "domain_limit_reached"


def test_verify_waits_for_the_record_then_validates(api, dns_server):
    domain = _create(api)
    pending = api.post(f"/v1/domains/{domain['domain_id']}/verify").json()["data"]
    assert pending["status"] == "pending_validation"
    assert "_hot-challenge.hooks.example.com" in pending["message"]
    assert ("_hot-challenge.hooks.example.com.", "TXT") in dns_server.queries

    dns_server.add("_hot-challenge.hooks.example.com", "TXT", '"unrelated"')
    dns_server.add("_hot-challenge.hooks.example.com", "TXT", f'"{_challenge(domain)["value"]}"')
    verified = api.post(f"/v1/domains/{domain['domain_id']}/verify").json()["data"]
    assert verified == {
        "domain_id": domain["domain_id"],
        "domain": "hooks.example.com",
        "status": "validated",
        "message": verified["message"],
    }
    stored = api.get(f"/v1/domains/{domain['domain_id']}").json()["data"]
    assert stored["status"] == "validated" and stored["verified_at"] and stored["checked_at"]


def test_traffic_record_makes_the_domain_active(api, dns_server, settings):
    settings.HOT_DOMAIN_TARGET = "ingress.hot.example.net"
    domain = _create(api)
    dns_server.add("_hot-challenge.hooks.example.com", "TXT", f'"{_challenge(domain)["value"]}"')
    first = api.post(f"/v1/domains/{domain['domain_id']}/verify").json()["data"]
    assert first["status"] == "validated"
    assert "CNAME" in first["message"] and "no CNAME record" in first["message"]

    dns_server.add("hooks.example.com", "CNAME", "Ingress.Hot.Example.NET.")
    active = api.post(f"/v1/domains/{domain['domain_id']}/verify").json()["data"]
    assert active["status"] == "active"
    assert api.get(f"/v1/domains/{domain['domain_id']}").json()["data"]["activated_at"]


def test_only_one_environment_can_prove_a_domain(api, other_api, dns_server):
    mine, theirs = _create(api), _create(other_api)
    for domain in (mine, theirs):
        dns_server.add(
            "_hot-challenge.hooks.example.com", "TXT", f'"{_challenge(domain)["value"]}"'
        )
    assert api.post(f"/v1/domains/{mine['domain_id']}/verify").json()["data"]["status"] == (
        "validated"
    )
    response = other_api.post(f"/v1/domains/{theirs['domain_id']}/verify")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "domain_exists"
    assert Domain.objects.get(pk=theirs["domain_id"]).verified_at is None


def test_verify_offline_fails_cleanly(api, settings):
    """No DNS server answers: the check reports it and the domain stays pending."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound but never read: queries go unanswered
        settings.HOT_DNS_NAMESERVERS = [f"127.0.0.1:{sock.getsockname()[1]}"]
        settings.HOT_DNS_TIMEOUT_SECONDS = 0.3
        domain = _create(api)
        response = api.post(f"/v1/domains/{domain['domain_id']}/verify")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "pending_validation"
    assert data["message"].startswith("DNS lookup failed")
    assert Domain.objects.get(pk=domain["domain_id"]).check_message == data["message"]


def test_delete_and_isolation(api, other_api):
    domain = _create(api)
    assert other_api.get(f"/v1/domains/{domain['domain_id']}").status_code == 404
    assert other_api.delete(f"/v1/domains/{domain['domain_id']}").status_code == 404
    assert api.delete(f"/v1/domains/{domain['domain_id']}").status_code == 204
    assert api.get(f"/v1/domains/{domain['domain_id']}").status_code == 404
    assert api.get("/v1/domains/not-an-id").status_code == 404


@pytest.mark.parametrize("record_found", [False, True])
def test_a_domain_deleted_during_the_lookup_answers_404(api, monkeypatch, record_found):
    """The DNS lookup can take seconds; a DELETE that lands meanwhile wins, and the verify
    answers 404 instead of failing to save a row that is gone."""
    domain = _create(api)

    def lookup_while_deleted(name):
        Domain.objects.filter(pk=domain["domain_id"]).delete()
        return [_challenge(domain)["value"]] if record_found else []

    monkeypatch.setattr("domains.dns.txt_values", lookup_while_deleted)
    response = api.post(f"/v1/domains/{domain['domain_id']}/verify")
    assert response.status_code == 404, response.json()
    assert response.json()["error"]["code"] == "not_found"
    assert not Domain.objects.filter(pk=domain["domain_id"]).exists()
