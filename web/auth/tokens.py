"""Signed session tokens and CSRF tokens (HMAC-SHA256 over a server secret; no state on the client
that the server trusts without checking).

A session cookie is ``v1.<payload>.<signature>`` where the payload (base64url JSON) holds the
username, a random session id, the issue time (``iat``, whole seconds, and ``iat_us``, microseconds
since the epoch), the expiry (whole seconds) and a fingerprint of the user's password hash, so
changing a password ends every session of that user. ``iat_us`` lets a session started just after an
admin ended the user's sessions stand, even within the same second; a token without it (issued
before it existed) counts as issued at the start of its ``iat`` second, the earliest it can have
been, so one issued in the second the sessions were ended stays refused.

The CSRF token of a session is ``HMAC(csrf key, session id)``: it is sent to the browser in the
readable cookie ``am_csrf`` and must come back in the ``X-CSRF-Token`` header of every unsafe
request (double submit, bound to the session so a cookie planted by a sibling site does not pass).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SESSION_COOKIE = "am_session"
CSRF_COOKIE = "am_csrf"
CSRF_HEADER = "X-CSRF-Token"
#: the pre-login CSRF cookie of the /login form (double submit; no session exists yet)
LOGIN_CSRF_COOKIE = "am_login_csrf"
US_PER_S = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two header or cookie values, whatever characters they hold
    (``hmac.compare_digest`` refuses non-ASCII ``str``; a forged value must fail, not raise)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash: a token made before a password change stops matching."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SessionToken:
    username: str
    sid: str
    #: the issue time in microseconds since the epoch (an old token's ``iat`` second, at its start)
    issued_us: int
    expires_at: int
    pw: str

    @property
    def issued_at(self) -> datetime:
        """The issue time, tz-aware UTC, to the microsecond."""
        return _EPOCH + timedelta(microseconds=self.issued_us)


def _issued_us(payload: dict[str, Any]) -> int:
    """The token's issue time in microseconds: ``iat_us`` (which must lie in the ``iat`` second),
    or for a token without it the start of its ``iat`` second."""
    seconds = int(payload["iat"])
    if "iat_us" not in payload:
        return seconds * US_PER_S
    micros = payload["iat_us"]
    if not isinstance(micros, int) or isinstance(micros, bool) or micros // US_PER_S != seconds:
        raise ValueError("iat_us does not match iat")
    return micros


class TokenSigner:
    """Makes and checks session and CSRF tokens with keys derived from one master secret."""

    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ValueError("the web secret key must be at least 32 bytes")
        self._session_key = hmac.new(master, b"agent-monitor session v1", hashlib.sha256).digest()
        self._csrf_key = hmac.new(master, b"agent-monitor csrf v1", hashlib.sha256).digest()

    def _sign(self, key: bytes, data: bytes) -> str:
        return _b64(hmac.new(key, data, hashlib.sha256).digest())

    def issue(self, username: str, password_hash: str, lifetime_s: float, now: float | None = None) -> str:
        issued_us = time.time_ns() // 1000 if now is None else round(now * US_PER_S)
        issued = issued_us // US_PER_S
        payload = {
            "u": username,
            "sid": secrets.token_urlsafe(16),
            "iat": issued,
            "iat_us": issued_us,
            "exp": issued + int(lifetime_s),
            "pw": password_fingerprint(password_hash),
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        return f"v1.{body}.{self._sign(self._session_key, body.encode('ascii'))}"

    def verify(self, token: str, now: float | None = None) -> SessionToken | None:
        """The token's content when its signature is right and it has not expired; else ``None``."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "v1":
            return None
        body, sig = parts[1], parts[2]
        if not _same(sig, self._sign(self._session_key, body.encode("ascii", "replace"))):
            return None
        try:
            payload = json.loads(_unb64(body))
            parsed = SessionToken(
                str(payload["u"]),
                str(payload["sid"]),
                _issued_us(payload),
                int(payload["exp"]),
                str(payload["pw"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if parsed.expires_at <= (time.time() if now is None else now):
            return None
        return parsed

    def csrf_token(self, sid: str) -> str:
        return self._sign(self._csrf_key, b"session:" + sid.encode("utf-8"))

    def csrf_ok(self, sid: str, presented: str | None) -> bool:
        return bool(presented) and _same(self.csrf_token(sid), presented or "")

    def login_csrf_ok(self, cookie: str | None, presented: str | None) -> bool:
        """The /login form's double-submit check: the form field equals the cookie and the cookie is ours."""
        if not cookie or not presented or not _same(cookie, presented):
            return False
        nonce, _, sig = cookie.partition(".")
        expected = self._sign(self._csrf_key, b"login:" + nonce.encode("utf-8", "surrogatepass"))
        return bool(nonce) and _same(sig, expected)

    def new_login_csrf(self) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._sign(self._csrf_key, b'login:' + nonce.encode())}"
