"""The content negotiation's shortcut chooses what DRF's own negotiation chooses."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from hotapi.api.negotiation import ContentNegotiation
from hotapi.api.renderers import EnvelopeJSONRenderer, EventStreamRenderer
from hotapi.api.streaming import AnyMediaRenderer

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "",
    "application/json; indent=4",
    "text/event-stream",
    "text/html,application/xhtml+xml,*/*;q=0.8",
    "application/*",
    "application/xml",
]
RENDERER_LISTS = [
    [EnvelopeJSONRenderer],
    [EnvelopeJSONRenderer, EventStreamRenderer],
    [EventStreamRenderer, EnvelopeJSONRenderer],
    [EnvelopeJSONRenderer, AnyMediaRenderer],
]


def _choice(negotiation, accept, renderers):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/v1/env", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except NotAcceptable:
        return "406"
    return type(renderer), media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("renderer_classes", RENDERER_LISTS)
def test_the_shortcut_chooses_what_drf_chooses(accept, renderer_classes):
    renderers = [renderer_class() for renderer_class in renderer_classes]
    assert _choice(ContentNegotiation(), accept, renderers) == _choice(
        DefaultContentNegotiation(), accept, renderers
    )


def test_the_api_uses_it(api):
    assert api.get("/v1/env", HTTP_ACCEPT="").status_code == 406
    response = api.get("/v1/env")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
