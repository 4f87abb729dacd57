"""``Authorization: Bearer <token>`` → ``request.auth`` is a ``hotapi.access.Credential``: an
API key (``hot_…``), a session (``s_…``) or a service key. What it may do is decided by the
permission class (``permissions.py``) from the view's declared requirements.

With Redis, a token verified recently in this process is answered from memory, which every
revocation empties before it returns (``environments.credential_cache``): no database query,
no round trip, and a revocation anywhere takes effect on the next request."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from environments.services import credential_authenticate, credential_cached

INVALID_KEY_MESSAGE = "Invalid or missing API key"
INVALID_TOKEN_MESSAGE = "Invalid, expired or revoked token"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # → NotAuthenticated (401) from the permission check
        scheme, _, token = header.partition(" ")
        if scheme != self.keyword or not token:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <api key>'")
        token = token.strip()
        credential = credential_cached(token) or credential_authenticate(token)
        if credential is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_MESSAGE)
        return (None, credential)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="hot"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "hotapi.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An environment API key (`hot_<key id>_<secret>`), a session "
            "(`s_<session id>_<secret>`) or a service key (`<key id>_<secret>`).",
        }
