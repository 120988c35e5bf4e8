"""Rule packs changed while the server runs: the rule set for new calls rebuilt and swapped.

An admin uploads a pack version, enables, disables or rolls back a pack; the change and the
rebuilt rule set succeed together or not at all: :func:`change_rule_packs` applies the change in
one database transaction, builds the rule set from the packs selected *with* the change (blocking,
in a worker thread, never on the event loop) and commits only when it loads. A broken or clashing
pack raises :class:`~agent_monitor.errors.RulePackError` and nothing is stored. The new rule set is
then swapped in one assignment (:meth:`CallManager.use_checkers`): calls that start later use it,
calls already running keep theirs. At start, :func:`load_rule_packs` applies what is stored.

On a floor the change is made on one node (the one serving the admin page, often a web node that
takes no calls) and stored in the shared database: every node runs :func:`follow_rule_packs`
every ``cluster.packs_check_s``, which rebuilds its rule set when the stored choices differ from
those it last applied (:attr:`CallManager.packs`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from agent_monitor.errors import AgentMonitorError
from agent_monitor.model.stages import CheckerFactory, PackSelection
from agent_monitor.pipeline.manager import CallManager
from agent_monitor.storage import repo

log = logging.getLogger(__name__)
T = TypeVar("T")


async def change_rule_packs(manager: CallManager, change: Callable[[Any], T]) -> T:
    """Apply ``change(session)`` and swap in the rule set it leads to; returns what it returns
    (plain data: its rows are gone once the transaction ends)."""

    def job() -> tuple[T, PackSelection, CheckerFactory]:
        with manager.db.session() as s:
            result = change(s)
            s.flush()
            selection = repo.pack_selection(s)
            checkers = manager.stages.packs.build(selection)
        return result, selection, checkers

    async with manager.rules_lock:
        result, selection, checkers = await asyncio.to_thread(job)
        manager.use_checkers(checkers)
        manager.packs = selection
    return result


async def load_rule_packs(manager: CallManager) -> None:
    """At start: the stored selection (uploaded packs, disabled files) applied to the rule set;
    when it no longer loads (a pack file changed), the installed files alone, and an error logged
    (once: :func:`follow_rule_packs` does not try the same choices again)."""
    async with manager.rules_lock:
        selection = await asyncio.to_thread(_stored, manager)
        manager.packs = selection
        if not selection.uploaded and not selection.disabled_files:
            return
        try:
            checkers = await asyncio.to_thread(manager.stages.packs.build, selection)
        except AgentMonitorError as exc:
            log.error("stored rule pack choices not applied (the installed files are used): %s", exc)
            return
        manager.use_checkers(checkers)


async def follow_rule_packs(manager: CallManager) -> bool:
    """Rebuild the rule set when the stored pack choices differ from those it was built from (a
    change made on another node of the floor); whether it did. Choices that do not load here are
    logged once and the rule set in use is kept."""
    if await asyncio.to_thread(_stored, manager) == manager.packs:
        return False
    async with manager.rules_lock:
        selection = await asyncio.to_thread(_stored, manager)  # again: a change made here meanwhile
        if selection == manager.packs:
            return False
        manager.packs = selection
        try:
            checkers = await asyncio.to_thread(manager.stages.packs.build, selection)
        except AgentMonitorError as exc:
            log.error("rule pack choices changed on the floor do not load here (rule set kept): %s", exc)
            return False
        manager.use_checkers(checkers)
    log.warning("rule packs changed on the floor: calls that start from now on use them")
    return True


def _stored(manager: CallManager) -> PackSelection:
    """The stored pack choices (blocking: in a worker thread)."""
    with manager.db.session() as s:
        return repo.pack_selection(s)
