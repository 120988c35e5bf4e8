"""Settings of the server: listeners and limits, and the web application's sign-in and sessions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr

from agent_monitor.model.roles import Role
from agent_monitor.settings.base import Section

#: the heap allocators ``serve`` can run on (``server.allocator``)
Allocator = Literal["auto", "jemalloc", "glibc"]

__all__ = ["Allocator", "PhoneHookSettings", "ServerSettings", "WallSettings", "WebSettings"]


class ServerSettings(Section):
    """``agent-monitor serve``: the web server and the ingest listeners (see :mod:`web.app`)."""

    #: address the HTTP/websocket server and the AudioSocket listener bind to
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    #: Asterisk AudioSocket TCP listener (0 = any free port; ``None`` = off)
    audiosocket_port: int | None = Field(9092, ge=0, le=65535)
    #: agent id of AudioSocket calls joined by the UUID convention (not registered beforehand)
    audiosocket_agent: str = "unassigned"
    #: largest binary audio frame accepted on /ws/ingest (bytes); larger closes with 1009
    max_frame_bytes: int = Field(65536, ge=320)
    #: a new connection must send its start message within this many seconds
    start_timeout_s: float = Field(10.0, gt=0.0)
    #: the server saves the hash-chain heads to ``data_dir/chain-anchors.jsonl`` this often (and at
    #: shutdown); ``db verify`` checks against them, so a truncated chain is caught
    anchor_every_s: float = Field(300.0, gt=0.0)
    #: an HTTP request head (request line and headers) must arrive within this many seconds
    header_timeout_s: float = Field(10.0, gt=0.0)
    #: an AudioSocket leg that sends nothing for this long is closed (a half-open TCP connection)
    audiosocket_idle_timeout_s: float = Field(40.0, gt=0.0)
    #: every websocket (ingest and pages) is pinged this often; one whose peer has not answered a
    #: ping within ``ws_ping_timeout_s`` is closed (a media fork or browser gone without a close:
    #: its call ends ``aborted``, not live for ever)
    ws_ping_interval_s: float = Field(20.0, gt=0.0)
    ws_ping_timeout_s: float = Field(20.0, gt=0.0)
    #: a registered AudioSocket UUID that no connection claims within this long is forgotten
    audiosocket_registration_ttl_s: float = Field(300.0, gt=0.0)
    #: at most this many AudioSocket UUIDs wait for their connection at once (then 429)
    audiosocket_max_registrations: int = Field(10000, ge=1)
    #: new calls are refused (and /healthz is not ok) with less free space than this in data_dir
    min_free_disk_mb: int = Field(100, ge=0)
    #: speech-recognition worker *processes* (each loads its own Vosk models and spare recognizers;
    #: see :mod:`agent_monitor.workers`): ``0`` = recognition in this process on ``asr.threads``
    #: threads (as before), ``N`` = N processes, ``auto`` = 0 on a machine of at most 2 cores (measured:
    #: threads do as well there), otherwise one per core but one (the front keeps a core)
    workers: Annotated[int, Field(ge=0)] | Literal["auto"] = "auto"
    #: this node's name in the metrics (label ``node``); default: the host name
    node_name: str | None = None
    #: the heap allocator ``serve`` runs on (it starts itself again once with it; see
    #: :mod:`agent_monitor.allocator`): ``auto`` = jemalloc where ``libjemalloc2`` is installed
    #: (measured: a third less Vosk CPU with legs decoding in turn), else glibc's; ``jemalloc``
    #: (an error without it) or ``glibc``. Linux with glibc only
    allocator: Allocator = "auto"
    #: ``serve`` asks the allocator to back its heap with transparent huge pages (jemalloc
    #: ``thp:always``, glibc ``glibc.malloc.hugetlb=1``): Vosk's decoding graph and recognizers then
    #: cost fewer TLB misses (measured: 9-15% less Vosk CPU with glibc, 1-11% with jemalloc, 16 and
    #: 8 legs decoding in turn). Linux with glibc only; off when THP is ``never``.
    huge_pages: bool = True
    #: a process that stays idle this long (no live call; a speech worker: no open leg) hands the
    #: heap memory its calls freed back to the system (jemalloc's purge or glibc's ``malloc_trim``; see
    #: :mod:`agent_monitor.heap_trim`); ``None``: never (it stays as large as its busiest moment).
    #: Not at once: the next calls then run a while on small pages (measured on glibc: +9%, +15% CPU)
    trim_heap_after_idle_s: float | None = Field(30.0, ge=0.0)


def _at_least(chars: int) -> AfterValidator:
    """A secret given in the settings is refused when it is shorter than ``chars``: at load time,
    with one line, not when the server has started."""

    def check(value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < chars:
            raise ValueError(f"must be at least {chars} characters")
        return value

    return AfterValidator(check)


class WebSettings(Section):
    """Login, sessions and machine credentials of the web application (see :mod:`web.auth`).

    There is no default secret and no default password: the session signing key and the ingest
    token are generated at random on first start into files under ``data_dir`` (mode 0600) unless
    given here; the first admin is created with ``agent-monitor users add``."""

    #: signing key of session cookies (at least 32 characters); default: ``data_dir/web-secret.key``
    secret_key: Annotated[SecretStr, _at_least(32)] | None = None
    #: token that machine clients (``/ws/ingest``, ``/ws/twilio``, ``/api/audiosocket/register``)
    #: present as ``Authorization: Bearer ...`` or ``?token=``; default: ``data_dir/ingest-token``
    ingest_token: Annotated[SecretStr, _at_least(16)] | None = None
    #: a login session lasts this long (seconds) from sign-in
    session_lifetime_s: int = Field(8 * 3600, ge=60, le=30 * 24 * 3600)
    #: session cookies carry the ``Secure`` flag (set it when served over HTTPS)
    secure_cookies: bool = False
    #: failed logins allowed per username and client address within ``login_window_s`` (then 429)
    login_max_failures: int = Field(5, ge=1)
    #: failed logins allowed per client address (any username) within ``login_window_s``
    login_max_failures_per_ip: int = Field(20, ge=1)
    login_window_s: float = Field(60.0, gt=0.0)
    #: shortest password accepted by ``users add|passwd`` and the admin API
    min_password_length: int = Field(10, ge=8)
    #: open websockets re-check their session this often (logout, deactivation, password change)
    session_recheck_s: float = Field(2.0, gt=0.0, le=60.0)
    #: ``/ws/ui/live`` sends ``{"type": "ping"}`` this often; the pages mark themselves not live
    #: and reconnect when nothing arrived for 2.5 times this (a server that hangs, a dead link)
    live_heartbeat_s: float = Field(10.0, gt=0.0, le=120.0)
    #: least zxcvbn strength score (0-4) of a new password
    min_password_score: int = Field(3, ge=0, le=4)
    #: addresses (or networks) of reverse proxies whose ``X-Forwarded-For`` is believed; empty:
    #: the client address is the TCP peer's
    trusted_proxies: list[str] = Field(default_factory=list)
    #: roles that see personal data (ID, phone, bank card numbers) unmasked; default: see
    #: :mod:`web.masking`
    unmasked_roles: list[Role] | None = None
    #: bearer token a Prometheus server presents to scrape ``GET /metrics``; unset: only clients
    #: on the loopback interface may scrape
    metrics_token: SecretStr | None = None


class QaSettings(Section):
    """The QA review queue (see README: "QA review at volume")."""

    #: a call assigned to a reviewer (by "Next in queue", "Take" or "Assigned to") who has saved no
    #: draft of it for this long may be claimed by another reviewer's "Next in queue" (a reviewer
    #: who left the call unopened does not keep it forever); a draft keeps it theirs
    claim_expiry_s: float = Field(30 * 60.0, gt=0.0, le=30 * 24 * 3600.0)


class PhoneHookSettings(Section):
    """The phone-system hook of the supervisor's "take over" (see :mod:`web.ui.phone_hook`): an HTTP
    POST of ``{"call_id", "agent_id", "supervisor", "action", "note", "alert_id"}`` to ``url``
    (``action``: ``listen``, ``whisper`` or ``barge``), e.g. to a small bridge that runs the
    FreeSWITCH ``uuid_*``/eavesdrop or Asterisk ChanSpy/AMI command (README: "Supervisor wall")."""

    #: where to POST; none: take-over is recorded and shown, nothing is sent to the phone system
    url: str | None = None
    #: a request taking longer than this fails (shown on the wall; the take-over stays recorded)
    timeout_s: float = Field(3.0, gt=0.0, le=30.0)
    #: sent as ``Authorization: Bearer ...`` when set
    token: SecretStr | None = None


class WallSettings(Section):
    """The supervisor's live wall."""

    #: an ended call (and its alerts) stays on the wall this long, marked ended, then goes
    ended_grace_s: float = Field(30.0, ge=0.0, le=3600.0)
    #: a resolved alert stays in the wall's alert feed this long, saying who resolved it, then goes
    #: (0: at once)
    resolved_grace_s: float = Field(10.0, ge=0.0, le=3600.0)
    phone_hook: PhoneHookSettings = PhoneHookSettings()
