"""Real Bot Framework tokens signed with a local key, for the production (authenticated) path.

Offline, botbuilder cannot fetch Microsoft's signing keys, so the tests put a local key in
botbuilder's OpenID metadata cache and sign tokens with it (PyJWT). The outbound token the
bot would get from Entra ID (the only edge we cannot run) is replaced by a fixed one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import jwt
from botframework.connector.auth import AuthenticationConstants, MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
OUTBOUND_TOKEN = "outbound-test-token"


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        key = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**key, "kid": self.kid, "use": "sig", "endorsements": ["msteams"]}

    def token(self, *, app_id: str, service_url: str, issuer: str = CHANNEL_ISSUER, lifetime: int = 3600,
              **extra: Any) -> str:
        now = int(time.time())
        claims = {"iss": issuer, "aud": app_id, "serviceurl": service_url, "nbf": now - 60, "iat": now - 60,
                  "exp": now + lifetime, **extra}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


@contextmanager
def trusted_keys(*keys: SigningKey) -> Iterator[None]:
    """Make botbuilder trust `keys` as the Bot Framework's signing keys, and fake the outbound token."""
    url = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    saved = JwtTokenExtractor.metadataCache.get(url)
    metadata = _OpenIdMetadata(url)
    metadata.keys = [k.jwk() for k in keys]
    metadata.last_updated = datetime.now()
    JwtTokenExtractor.metadataCache[url] = metadata
    original = MicrosoftAppCredentials.get_access_token
    MicrosoftAppCredentials.get_access_token = lambda self, force_refresh=False: OUTBOUND_TOKEN  # type: ignore[method-assign]
    try:
        yield
    finally:
        MicrosoftAppCredentials.get_access_token = original  # type: ignore[method-assign]
        if saved is None:
            JwtTokenExtractor.metadataCache.pop(url, None)
        else:
            JwtTokenExtractor.metadataCache[url] = saved
