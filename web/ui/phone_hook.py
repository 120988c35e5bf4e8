"""The phone-system hook of a take-over: when a supervisor takes a call over (listen, whisper or
barge in), one HTTP POST tells the phone system (``settings.wall.phone_hook``).

The body is JSON ``{"call_id", "agent_id", "supervisor", "action", "note", "alert_id"}``; a 2xx
answer counts as done. The request runs on the event loop's HTTP client (``httpx.AsyncClient``,
non-blocking) with a timeout; any failure (refused, timeout, non-2xx) comes back as a
:class:`HookResult` the wall shows, never as an exception: the take-over itself is already recorded.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import httpx

from agent_monitor.settings import PhoneHookSettings

log = logging.getLogger(__name__)


class TakeOverAction(StrEnum):
    """What the supervisor does on the call: listen only, whisper to the agent, or barge in."""

    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


@dataclass(frozen=True, slots=True)
class HookRequest:
    call_id: str
    agent_id: str
    supervisor: str
    action: TakeOverAction
    alert_id: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class HookResult:
    """What became of the hook: ``sent`` is false when no hook is configured."""

    sent: bool
    ok: bool
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


NOT_CONFIGURED = HookResult(sent=False, ok=False, error="no phone-system hook configured")


async def call_phone_hook(settings: PhoneHookSettings, request: HookRequest) -> HookResult:
    """POST ``request`` to the configured hook; the outcome, whatever happens."""
    if not settings.url:
        return NOT_CONFIGURED
    body = {**asdict(request), "action": request.action.value}
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}"} if settings.token else {}
    try:
        async with httpx.AsyncClient(timeout=settings.timeout_s) as client:
            answer = await client.post(settings.url, json=body, headers=headers)
    except httpx.TimeoutException:
        return _failed(request, f"no answer within {settings.timeout_s:g} s")
    except httpx.HTTPError as exc:
        return _failed(request, f"unreachable ({type(exc).__name__})")
    if not answer.is_success:
        return _failed(request, f"it answered HTTP {answer.status_code}", answer.status_code)
    return HookResult(sent=True, ok=True, status=answer.status_code)


def _failed(request: HookRequest, error: str, status: int | None = None) -> HookResult:
    log.warning(
        "phone hook for %s (%s by %s) failed: %s", request.call_id, request.action, request.supervisor, error
    )
    return HookResult(sent=True, ok=False, status=status, error=error)
