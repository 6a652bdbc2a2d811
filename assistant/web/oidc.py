"""Single sign-on with the council's OpenID Connect provider, through authlib.

The authorization code flow with PKCE (S256), ``state`` and ``nonce``. All three are derived
from one random secret the browser holds in the ``caseassist_oidc`` cookie (HMAC-SHA256 of
the secret with a purpose label), so the server stores none of them: only the secret's sha256
(``oidc_logins``), which makes it single-use and short-lived. A callback is accepted only from
the browser that started the sign-in, only once, and only within ``LOGIN_MAX_AGE``.

authlib checks the ID token: its signature against the provider's published keys (JWKS,
fetched again when a new key id appears), ``iss`` against the issuer of the discovery
document, which must be the configured ``oidc_issuer`` exactly, ``aud``/``azp`` against our
client id, ``exp``/``iat``, and ``nonce`` against ours.

The provider is reached only when single sign-on is configured, and only when someone signs
in: discovery (``<issuer>/.well-known/openid-configuration``, once per process), its keys,
and the token endpoint. Nothing here knows FastAPI; ``routes.sso`` is the HTTP side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import JoseError

from assistant.domain import Role, team_label
from assistant.errors import ConfigurationError
from assistant.settings import Settings

log = logging.getLogger(__name__)

CALLBACK_PATH = "/sign-in/oidc/callback"
#: The browser's sign-in secret, from pressing the button to the provider's callback.
LOGIN_COOKIE = "caseassist_oidc"
LOGIN_MAX_AGE = timedelta(minutes=10)
#: Clock difference allowed between us and the provider on ``exp``/``iat``.
LEEWAY_S = 60
NAME_MAX = 200  # users.name

_AGAIN = "Go back to the sign-in page and try again."


class SsoRefused(Exception):
    """A single sign-on that must not sign anyone in. ``reason`` is the stable code written
    to the audit trail; ``message`` is for the person, and carries nothing from a token."""

    def __init__(self, reason: str, message: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the account key (issuer, subject), a name to show,
    the role their claims map to (None: no mapped value, so no access) and their team."""

    issuer: str
    subject: str
    name: str
    role: Role | None
    #: Their team from ``oidc_team_claim`` (None: the claim is missing or empty); only
    #: meaningful when that setting names a claim (``OidcProvider.team_claim``).
    team: str | None = None


def derive(secret: str, purpose: str) -> str:
    """43 URL-safe characters bound to ``secret``: ``state``, ``nonce`` and the PKCE verifier
    (RFC 7636 asks 43 to 128 unreserved characters)."""
    digest = hmac.new(secret.encode(), f"caseassist-oidc-{purpose}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def claim_values(claims: dict[str, Any], path: str) -> list[str]:
    """The strings at ``path`` (dots reach into objects): a string, or a list's strings."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def claimed_team(values: list[str]) -> str | None:
    """The team in the claim's first non-blank value (``domain.team_label``), None if there is
    none; ValueError if that value is not a team label (over ``TEAM_MAX`` characters...)."""
    first = next((v for v in values if v.strip()), None)
    return team_label(first) if first is not None else None


def map_role(values: list[str], mapping: tuple[tuple[str, str], ...]) -> Role | None:
    """The role of the first (claim value, role) pair whose value the user has."""
    have = set(values)
    return next((Role(role) for value, role in mapping if value in have), None)


class _Client(OAuth2Mixin, OpenIDMixin, BaseApp):
    """authlib's framework-neutral OpenID client on requests (as its Flask and Django clients
    are built); our routes keep the flow's secrets, not a framework session."""

    client_cls = OAuth2Session


class OidcProvider:
    """The configured provider. Made at start-up without contacting it."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id  # Settings checked both
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.mapping = settings.oidc_role_mapping
        self.roles_claim = settings.oidc_roles_claim
        self.name_claim = settings.oidc_name_claim
        self.team_claim = settings.oidc_team_claim
        secret = _client_secret(settings)
        client_kwargs: dict[str, Any] = {
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "default_timeout": settings.oidc_timeout_s,
            "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
        }
        if settings.oidc_ca_file is not None:
            client_kwargs["verify"] = str(settings.oidc_ca_file)
        self._client = _Client(
            framework=None,
            client_id=self.client_id,
            client_secret=secret,
            server_metadata_url=self.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )

    def metadata(self) -> dict[str, Any]:
        """The discovery document (fetched once), whose issuer must be ours exactly: it is
        what authlib checks the ID token's ``iss`` against."""
        try:
            metadata: dict[str, Any] = self._client.load_server_metadata()
        except (requests.RequestException, ValueError) as exc:
            log.warning("OIDC discovery failed: %s", type(exc).__name__)
            raise SsoRefused(
                "oidc_unreachable",
                "The council's sign-in service could not be reached. Try again in a few "
                "minutes; if it keeps happening, tell your IT service desk.",
                status=502,
            ) from None
        if metadata.get("issuer") != self.issuer:
            self._client.server_metadata.pop("_loaded_at", None)  # look again next time
            log.warning("OIDC discovery names another issuer than oidc_issuer")
            raise SsoRefused(
                "oidc_discovery",
                "The council's sign-in service is not set up as this service expects. Tell "
                "your IT service desk.",
                status=502,
            )
        return metadata

    def authorization_url(self, *, secret: str, redirect_uri: str) -> str:
        self.metadata()
        started = self._client.create_authorization_url(
            redirect_uri,
            state=derive(secret, "state"),
            nonce=derive(secret, "nonce"),
            code_verifier=derive(secret, "pkce"),
        )
        return str(started["url"])

    def identity(self, *, secret: str, redirect_uri: str, params: dict[str, str]) -> Identity:
        """Check the callback's ``state``, exchange its code (with the PKCE verifier) and
        check the ID token; the person's identity and mapped role. ``SsoRefused`` otherwise."""
        state = params.get("state", "")
        if not hmac.compare_digest(state.encode(), derive(secret, "state").encode()):
            raise SsoRefused("oidc_state", "This sign-in could not be checked. " + _AGAIN)
        if "error" in params:
            # the provider's own refusal (access_denied ...): its code only, never its text
            raise SsoRefused(
                "oidc_denied",
                "Your council account did not let you sign in to this service. " + _AGAIN,
                status=403,
            )
        if not params.get("code"):
            raise SsoRefused("oidc_state", "This sign-in could not be checked. " + _AGAIN)
        self.metadata()
        try:
            token = self._client.fetch_access_token(
                redirect_uri, code=params["code"], code_verifier=derive(secret, "pkce")
            )
        except OAuthError as exc:  # invalid_grant: a code used before, expired or not ours
            log.info("OIDC token endpoint refused the code (%s)", exc.error)
            raise SsoRefused(
                "oidc_code", "The council's sign-in service refused this sign-in. " + _AGAIN
            ) from None
        except (requests.RequestException, ValueError) as exc:
            log.warning("OIDC token request failed: %s", type(exc).__name__)
            raise SsoRefused(
                "oidc_unreachable",
                "The council's sign-in service could not be reached. Try again in a few minutes.",
                status=502,
            ) from None
        if "id_token" not in token:
            raise SsoRefused("oidc_id_token", "The sign-in had no identity in it. " + _AGAIN)
        try:
            claims = dict(
                self._client.parse_id_token(token, nonce=derive(secret, "nonce"), leeway=LEEWAY_S)
            )
        except (JoseError, ValueError) as exc:
            # which check failed (issuer, audience, expiry, signature, nonce), not the token
            log.info("OIDC ID token refused: %s %s", type(exc).__name__, getattr(exc, "claim", ""))
            raise SsoRefused(
                "oidc_id_token", "The sign-in could not be verified. " + _AGAIN
            ) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise SsoRefused("oidc_id_token", "The sign-in could not be verified. " + _AGAIN)
        name = next(
            (
                v.strip()
                for v in (claims.get(self.name_claim), claims.get("preferred_username"))
                if isinstance(v, str) and v.strip()
            ),
            subject,
        )
        team = None
        if self.team_claim:
            try:
                team = claimed_team(claim_values(claims, self.team_claim))
            except ValueError:
                # not widened to "no team" (a manager with none reads every visit): refused
                log.info("OIDC team claim is not a team label")
                raise SsoRefused(
                    "oidc_team",
                    "Your council account's team could not be read by this service. Tell "
                    "your IT service desk.",
                    status=403,
                ) from None
        return Identity(
            issuer=self.issuer,
            subject=subject,
            name=name[:NAME_MAX],
            role=map_role(claim_values(claims, self.roles_claim), self.mapping),
            team=team,
        )

    def logout_url(self, *, post_logout_redirect_uri: str) -> str | None:
        """The provider's RP-initiated logout (its ``end_session_endpoint``), or None when it
        advertises none or cannot be reached (our own session has ended either way)."""
        try:
            if not self.metadata().get("end_session_endpoint"):
                return None
            made = self._client.create_logout_url(
                post_logout_redirect_uri=post_logout_redirect_uri, client_id=self.client_id
            )
        except SsoRefused:
            return None
        return str(made["url"])


def _client_secret(settings: Settings) -> str | None:
    if settings.oidc_client_secret is not None:
        return settings.oidc_client_secret.get_secret_value()
    path = settings.oidc_client_secret_file
    if path is None:
        return None
    try:
        secret = path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(
            f"oidc_client_secret_file {path} cannot be read ({exc.strerror}); fix the path "
            "or its permissions"
        ) from None
    if not secret:
        raise ConfigurationError(f"oidc_client_secret_file {path} is empty")
    return secret


__all__ = [
    "CALLBACK_PATH",
    "LOGIN_COOKIE",
    "LOGIN_MAX_AGE",
    "Identity",
    "OidcProvider",
    "SsoRefused",
    "claim_values",
    "claimed_team",
    "derive",
    "map_role",
]
