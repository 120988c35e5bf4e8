"""An admin's "end sessions" and the user's next sign-in in the same wall-clock second (real
application, real database, SQLite and PostgreSQL).

The session token carried its issue time in whole seconds, so a user told "sign in again" who did so
within the second of the end got a cookie that was dead at once. It now carries microseconds
(``iat_us``): a session issued after the end stands, one issued at or before it is refused, and a
token without ``iat_us`` (issued by the older code) counts from the start of its second, so one of
the second of the end stays refused. The wall clock of the token signer and of the end-sessions
route is set by the test, so "the same second" is certain, not a matter of timing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from agent_monitor.accounts.secrets import secret_key
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.agent_monitor.storage.conftest import BACKENDS
from tests.web.auth_support import Principal, add_users, app_settings, running, sign_in
from tests.web.backend_support import backend_database
from web.auth import tokens
from web.auth.tokens import TokenSigner, password_fingerprint

US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MASTER = b"k" * 32
LIFETIME_S = 8 * 3600


class WallClock:
    """Stands in for the ``time`` module of :mod:`web.auth.tokens` and for the end-sessions route's
    ``utcnow``: one instant, in microseconds since the epoch, moved by the test."""

    def __init__(self, now_us: int) -> None:
        self.now_us = now_us

    def time(self) -> float:
        return self.now_us / US

    def time_ns(self) -> int:
        return self.now_us * 1000

    def utcnow(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.now_us)


def signed(master: bytes, payload: dict[str, Any]) -> str:
    """A ``v1`` session token of ``payload``, signed as the server signs (the key derivation written
    out here, so a token made the way the older code made it is checked too)."""
    key = hmac.new(master, b"agent-monitor session v1", hashlib.sha256).digest()
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(hmac.new(key, body.encode(), hashlib.sha256).digest()).rstrip(b"=")
    return f"v1.{body}.{sig.decode()}"


def old_format(master: bytes, username: str, password_hash: str, iat: int) -> str:
    """A session token as the code before ``iat_us`` issued it: whole seconds only."""
    payload = {
        "u": username,
        "sid": f"old-{iat}",
        "iat": iat,
        "exp": iat + LIFETIME_S,
        "pw": password_fingerprint(password_hash),
    }
    return signed(master, payload)


@contextmanager
def app_on(backend: str, settings: Settings) -> Iterator[TestClient]:
    """The application with its database on ``backend`` (PostgreSQL: a throw-away database)."""
    with backend_database(backend, "the end-sessions tests") as url:
        if url is not None:
            settings = settings.model_copy(update={"database_url": url})
        with running(settings) as client:
            add_users(client)
            yield client


def _me(client: TestClient, session: str | None) -> int:
    return client.get("/api/auth/me", headers=Principal("x", session).headers(csrf=False)).status_code


@pytest.mark.parametrize("backend", BACKENDS)
def test_signing_in_again_in_the_second_of_end_sessions_stands(
    backend: str, tmp_path: Path, base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app_on(backend, app_settings(base_settings, tmp_path / "data")) as client:
        admin = sign_in(client, "admin1")  # on the real clock
        second = int(time.time())
        clock = WallClock(second * US + 200_000)
        monkeypatch.setattr(tokens, "time", clock)
        monkeypatch.setattr(importlib.import_module("web.admin.sessions"), "utcnow", clock.utcnow)
        before = sign_in(client, "qa1")  # at .200
        assert _me(client, before.session) == 200
        clock.now_us += 300_000  # .500: the admin ends qa1's sessions
        ended = client.post("/api/admin/users/qa1/end-sessions", headers=admin.headers())
        assert ended.status_code == 200, ended.text
        assert ended.json()["ended_at"] == clock.utcnow().isoformat()
        clock.now_us += 300_000  # .800: qa1 signs in again, in the same second
        after = sign_in(client, "qa1")
        assert _me(client, before.session) == 401, "a session issued before the end must stay ended"
        assert _me(client, after.session) == 200, "the session started after the end must stand"
        assert client.get("/api/calls", headers=after.headers()).status_code == 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_old_format_token_of_the_second_of_end_sessions_stays_refused(
    backend: str, tmp_path: Path, base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app_on(backend, app_settings(base_settings, tmp_path / "data")) as client:
        admin = sign_in(client, "admin1")
        second = int(time.time())
        clock = WallClock(second * US + 999_000)  # the end comes late in its second
        monkeypatch.setattr(tokens, "time", clock)
        monkeypatch.setattr(importlib.import_module("web.admin.sessions"), "utcnow", clock.utcnow)
        ended = client.post("/api/admin/users/qa1/end-sessions", headers=admin.headers())
        assert ended.status_code == 200, ended.text
        master = secret_key(client.app.state.auth.settings)  # type: ignore[attr-defined]
        with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
            password_hash = repo.require_user(s, "qa1").password_hash
        # an old token may have been issued at any moment of its second, even after .999: refused
        assert _me(client, old_format(master, "qa1", password_hash, second)) == 401
        assert _me(client, old_format(master, "qa1", password_hash, second - 1)) == 401
        # the old format itself is still read: one of the next second stands
        clock.now_us += 1_000  # the next second
        assert _me(client, old_format(master, "qa1", password_hash, second + 1)) == 200


def test_session_tokens_carry_microseconds_and_read_whole_seconds() -> None:
    signer = TokenSigner(MASTER)
    now = 1_700_000_000.123456
    token = signer.issue("qa1", "hash", LIFETIME_S, now=now)
    parsed = signer.verify(token, now=now)
    assert parsed is not None
    assert parsed.issued_us == 1_700_000_000_123_456
    assert parsed.issued_at == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert parsed.expires_at == 1_700_000_000 + LIFETIME_S
    old = signer.verify(old_format(MASTER, "qa1", "hash", 1_700_000_000), now=now)
    assert old is not None and old.issued_us == 1_700_000_000 * US  # the start of its second
    assert old.issued_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize("iat_us", [1_700_000_001_000_000, 1_699_999_999_999_999, "1700000000123456", True])
def test_a_signed_token_whose_iat_us_is_not_of_its_second_is_refused(iat_us: object) -> None:
    base = {"u": "qa1", "sid": "s", "iat": 1_700_000_000, "exp": 1_700_000_000 + LIFETIME_S, "pw": "p"}
    signer = TokenSigner(MASTER)
    assert signer.verify(signed(MASTER, {**base, "iat_us": 1_700_000_000_999_999}), now=1.0) is not None
    assert signer.verify(signed(MASTER, {**base, "iat_us": iat_us}), now=1.0) is None
