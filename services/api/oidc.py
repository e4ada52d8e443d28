"""OIDC bearer tokens: a JWT signed by the configured issuer is a principal with the role its groups map to.

The issuer's signing keys come from the ``jwks_uri`` of its discovery document
(``<issuer>/.well-known/openid-configuration``), fetched on first use and cached by PyJWT's
``PyJWKClient``; a token signed with a key id the cache does not know refetches the key set once, so a
rotated key is picked up without a restart (at most one such refetch per cooldown, so tokens with made-up
key ids cannot make drwave hammer the issuer). ``exp``, ``nbf``, ``iss`` and ``aud`` are checked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import jwt
import requests

from shared.domain.roles import Role

from .errors import ApiError

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY_SECONDS = 30  # clock skew tolerated on exp / nbf
HTTP_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class OidcIdentity:
    name: str  # the token's email, else its subject
    role: Role
    subject: str


class OidcVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        role_claim: str,
        role_map: dict[str, Role],
        jwks_cache_seconds: int = 300,
        jwks_refetch_cooldown_seconds: float = 30,
    ):
        self.issuer = issuer
        self.audience = audience
        self.role_claim = role_claim
        self.role_map = role_map
        self.jwks_cache_seconds = jwks_cache_seconds
        self.jwks_refetch_cooldown_seconds = jwks_refetch_cooldown_seconds
        self._keys: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def identity(self, token: str) -> OidcIdentity:
        try:
            jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise ApiError(401, "UNAUTHENTICATED", "unknown token (neither a drwave token nor a JWT)") from None
        try:
            key = self._key_set().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            raise ApiError(503, "DEPENDENCY_DOWN", f"the OIDC issuer's keys cannot be fetched: {error}") from None
        except (jwt.PyJWKClientError, jwt.DecodeError) as error:
            raise ApiError(401, "UNAUTHENTICATED", f"JWT not signed by a key of {self.issuer}: {error}") from None
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "TOKEN_EXPIRED", "the JWT has expired (exp)") from None
        except jwt.InvalidAudienceError:
            raise ApiError(401, "UNAUTHENTICATED", f"JWT refused: its aud is not {self.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise ApiError(401, "UNAUTHENTICATED", f"JWT refused: its iss is not {self.issuer}") from None
        except jwt.ImmatureSignatureError:
            raise ApiError(401, "UNAUTHENTICATED", "JWT refused: not valid yet (nbf)") from None
        except jwt.InvalidTokenError as error:
            raise ApiError(401, "UNAUTHENTICATED", f"JWT refused: {error}") from None
        return OidcIdentity(
            name=str(claims.get("email") or claims["sub"]), role=self._role(claims), subject=claims["sub"]
        )

    def _role(self, claims: dict) -> Role:
        """The most privileged role any of the token's groups maps to (roles in the order `Role` lists them)."""
        groups = claims.get(self.role_claim) or []
        if isinstance(groups, str):
            groups = groups.split()
        roles = {self.role_map[g] for g in groups if isinstance(g, str) and g in self.role_map}
        if not roles:
            raise ApiError(
                403,
                "FORBIDDEN",
                f"no drwave role for the JWT's {self.role_claim} {sorted(map(str, groups))}; "
                f"DRWAVE_OIDC_ROLE_MAP maps {sorted(self.role_map)}",
                claim=self.role_claim,
            )
        return next(role for role in Role if role in roles)

    def _key_set(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._keys is None:
                self._keys = jwt.PyJWKClient(
                    self._jwks_uri(),
                    cache_jwk_set=True,
                    lifespan=self.jwks_cache_seconds,
                    cooldown_duration=self.jwks_refetch_cooldown_seconds,
                    timeout=HTTP_TIMEOUT_SECONDS,
                )
            return self._keys

    def _jwks_uri(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
            response.raise_for_status()
            return response.json()["jwks_uri"]
        except (requests.RequestException, ValueError, KeyError) as error:
            raise ApiError(503, "DEPENDENCY_DOWN", f"the OIDC discovery document {url} is unusable: {error}") from None
