"""``Authorization: Bearer hot_<id>_<secret>`` → ``request.auth`` is the environment's ApiKey."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from environments.services import api_key_authenticate

INVALID_KEY_MESSAGE = "Invalid or missing API key"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # → NotAuthenticated (401) from the permission check
        scheme, _, token = header.partition(" ")
        if scheme != self.keyword or not token:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <api key>'")
        api_key = api_key_authenticate(token.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
        return (None, api_key)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="hot"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "hotapi.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An environment API key: `hot_<key id>_<secret>`.",
        }
