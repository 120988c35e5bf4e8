"""How many calls one socket's access decisions remember. A call's ``call_ended`` is decided on what
the socket saw of the call live, so the socket notes each call it sees; one whose filter leaves out
``call_ended`` (an API client asking for alerts only) never sees the end that forgets the note, and
would keep every call of a long day. At most :data:`REMEMBERED_CALLS` are kept, the oldest
forgotten first; a forgotten call's end is decided on its stored row, as every end was before. A
real application (real Vosk model, SQLite), its access policy called in its event loop."""

from __future__ import annotations

from pathlib import Path

from agent_monitor.model.events import CallEnded, CallStarted
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import Settings
from tests.web.auth_support import add_users, app_settings, running
from web.auth.deps import CurrentUser
from web.auth.live_scope import REMEMBERED_CALLS, LiveScope


def _ended(call_id: str) -> CallEnded:
    return CallEnded(
        call_id=call_id, t=60.0, status="ended", reason="stop", level=WarningLevel.NONE, duration_s=60.0
    )


def test_a_socket_remembers_the_latest_calls_it_saw_and_no_more(
    tmp_path: Path, base_settings: Settings
) -> None:
    with running(app_settings(base_settings, tmp_path / "data")) as client:
        add_users(client)  # A-ONE is on red-team; no call is stored
        services = client.app.state.services  # type: ignore[attr-defined]
        scope = LiveScope(CurrentUser("sup_red", Role.SUPERVISOR, None, "red-team"), services)
        calls = [f"seen-{i}" for i in range(REMEMBERED_CALLS + 10)]

        async def decide() -> tuple[list[bool], bool, bool]:
            started = [
                await scope.allows(CallStarted(call_id=c, t=0.0, info=CallInfo(c, "A-ONE"))) for c in calls
            ]
            return started, await scope.allows(_ended(calls[-1])), await scope.allows(_ended(calls[0]))

        assert client.portal is not None
        started, latest_end, oldest_end = client.portal.call(decide)
    assert all(started)
    assert latest_end  # remembered: the supervisor's, with no stored row to read
    assert not oldest_end  # forgotten: decided on its stored row, which does not exist
