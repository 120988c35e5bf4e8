"""Rule packs changed while the server runs: the rule set for new calls rebuilt and swapped.

An admin uploads a pack version, enables, disables or rolls back a pack; the change and the
rebuilt rule set succeed together or not at all: :func:`change_rule_packs` applies the change in
one database transaction, builds the rule set from the packs selected *with* the change (blocking,
in a worker thread, never on the event loop) and commits only when it loads. A broken or clashing
pack raises :class:`~agent_monitor.errors.RulePackError` and nothing is stored. The new rule set is
then swapped in one assignment (:meth:`CallManager.use_checkers`): calls that start later use it,
calls already running keep theirs. At start, :func:`load_rule_packs` applies what is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from agent_monitor.errors import AgentMonitorError
from agent_monitor.model.stages import CheckerFactory
from agent_monitor.pipeline.manager import CallManager
from agent_monitor.storage import repo

log = logging.getLogger(__name__)
T = TypeVar("T")


async def change_rule_packs(manager: CallManager, change: Callable[[Any], T]) -> T:
    """Apply ``change(session)`` and swap in the rule set it leads to; returns what it returns
    (plain data: its rows are gone once the transaction ends)."""

    def job() -> tuple[T, CheckerFactory]:
        with manager.db.session() as s:
            result = change(s)
            s.flush()
            checkers = manager.stages.packs.build(repo.pack_selection(s))
        return result, checkers

    async with manager.rules_lock:
        result, checkers = await asyncio.to_thread(job)
        manager.use_checkers(checkers)
    return result


async def load_rule_packs(manager: CallManager) -> None:
    """At start: the stored selection (uploaded packs, disabled files) applied to the rule set;
    when it no longer loads (a pack file changed), the installed files alone, and an error logged."""

    def job() -> CheckerFactory | None:
        with manager.db.session() as s:
            selection = repo.pack_selection(s)
        if not selection.uploaded and not selection.disabled_files:
            return None
        return manager.stages.packs.build(selection)

    async with manager.rules_lock:
        try:
            checkers = await asyncio.to_thread(job)
        except AgentMonitorError as exc:
            log.error("stored rule pack choices not applied (the installed files are used): %s", exc)
            return
        if checkers is not None:
            manager.use_checkers(checkers)
