"""How an integration signs in to the API: ``Authorization: Token <key>``, checked against the
keys' hashes (`ApiToken`). A missing or wrong key answers 401 with a ``WWW-Authenticate``
header; a revoked key is a wrong key."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import services


class HashedTokenAuthentication(authentication.TokenAuthentication):
    """DRF's token scheme (the header format every client knows), with keys stored hashed."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        token = services.authenticate_api_token(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return (token.user, token)


class HashedTokenScheme(OpenApiAuthenticationExtension):
    """The scheme as the OpenAPI description names it."""

    target_class = "interfaces.authentication.HashedTokenAuthentication"
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _(
                    "An API token, sent in the Authorization header as “Token” and the key. "
                    "Create one at /integrations/."
                )
            ),
        }
