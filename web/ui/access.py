"""Audit records of the UI routes (who opened, replayed, exported or acknowledged what).

The routes' other needs live where they are defined once: the signed-in user of each set of roles
in :mod:`web.auth.deps`, the access policy (which calls, masked or not) in :mod:`web.auth.scope`,
the services and :func:`~web.services.in_db` in :mod:`web.services`."""

from __future__ import annotations

from typing import Any

from agent_monitor.accounts.users import record
from web.auth.deps import CurrentUser


def audit(s: Any, user: CurrentUser, action: str, object_type: str, object_id: str, **detail: Any) -> None:
    """One audit record of ``user``'s ``action`` in the open session ``s``."""
    record(s, user.username, action, object_type, object_id, **detail)
