"""Rules on a call's metadata, checked from its start: calling hours in the debtor's time zone,
and call frequency (Regulation F for US calls, a daily cap for PRC calls) over the debtor's
stored calls.

US or PRC rules: by the debtor's time zone, else the call's language (:func:`jurisdiction_of`). A
call that comes without a time zone is judged in every zone the debtor's stored calls gave. Calls
are counted per debt (the call's ``debt_id``, else its debtor id; a call giving neither, with
every stored call to its phone number: :attr:`CallInfo.frequency_key`) and a call made with the
debtor's prior consent is not counted (:func:`repo.debtor_calls_since`).

The check runs beside the call (:func:`check_call_metadata`, a task the call's end waits for):
its start does not wait for the database. Reading the stored calls needs the database: while it is
not available (down, or every connection of the pool busy past ``database.pool_timeout_s``) the
check is tried again (after :data:`FIRST_RETRY_S`, doubling up to :data:`MAX_RETRY_S`) until it
reads them or the call ends (one last try then); the hits it finds late are the call's as at its
start (call time 0). Each step is said in the log. A call whose end came first goes without them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

from agent_monitor.errors import AgentMonitorError
from agent_monitor.model.audio import Leg
from agent_monitor.model.calls import CallRecord, jurisdiction_of
from agent_monitor.model.rules import HitEvent, HitStatus, RuleHit
from agent_monitor.model.session import CallInfo
from agent_monitor.model.stages import CheckerFactory
from agent_monitor.pipeline.outbox import is_transient
from agent_monitor.pipeline.session import CallSession
from agent_monitor.settings import RulesSettings
from agent_monitor.storage import Database, repo

__all__ = ["FIRST_RETRY_S", "MAX_RETRY_S", "check_call_metadata"]

log = logging.getLogger(__name__)


#: seconds before the first retry of a check the database could not answer; doubled each time
FIRST_RETRY_S = 0.5
#: the longest wait between two retries
MAX_RETRY_S = 30.0
#: how often a waiting retry looks whether the call has ended
_LOOK_S = 0.25


async def check_call_metadata(
    session: CallSession, checkers: CheckerFactory, db: Database, rules: RulesSettings
) -> None:
    """The call-metadata rules' hits on ``session``, tried again while the database is not
    available (see the module documentation). Never raises: a failure is logged."""
    call_id, delay, tries = session.call_id, FIRST_RETRY_S, 0
    while True:
        tries += 1
        try:
            hits = await _metadata_hits(session.info, checkers, db, rules)
        except AgentMonitorError as exc:
            log.warning("call %s: call-metadata rules not checked: %s", call_id, exc)
            return
        except Exception as exc:
            if not is_transient(exc):
                log.error("call %s: call-metadata rules failed: %r", call_id, exc, exc_info=exc)
                return
            if session.closed:
                log.warning(
                    "call %s: call-metadata rules (calling hours, frequency) not checked: the database "
                    "was not available before the call ended (%d tries): %s",
                    call_id,
                    tries,
                    exc,
                )
                return
            if tries == 1:
                log.warning(
                    "call %s: call-metadata rules (calling hours, frequency) not checked yet: the "
                    "database is not available (tried again until the call ends): %s",
                    call_id,
                    exc,
                )
            await _wait(session, delay)
            delay = min(delay * 2, MAX_RETRY_S)
            continue
        if tries > 1:
            log.warning(
                "call %s: call-metadata rules checked on try %d (the database answered)", call_id, tries
            )
        try:
            await session.on_hit_events(Leg.AGENT, [HitEvent(HitStatus.CONFIRMED, h) for h in hits], 0.0)
        except Exception as exc:  # the call's end waits for this task: it must not fail there
            log.error("call %s: call-metadata hits not raised: %r", call_id, exc, exc_info=exc)
        return


async def _wait(session: CallSession, seconds: float) -> None:
    """Sleep ``seconds``, or less once the call has begun to end (its last try is then due)."""
    until = asyncio.get_running_loop().time() + seconds
    while not session.closed and (left := until - asyncio.get_running_loop().time()) > 0:
        await asyncio.sleep(min(left, _LOOK_S))


async def _metadata_hits(
    info: CallInfo, checkers: CheckerFactory, db: Database, rules: RulesSettings
) -> list[RuleHit]:
    """The calling-hours and frequency hits of the call ``info`` (reads the debtor's stored calls)."""
    zones = info.debtor_zones or await _stored_zones(db, info)
    if not zones:
        return []
    record = CallRecord(
        call_id=info.call_id,
        debtor_id=info.debtor_id or info.call_id,
        debt_id=info.frequency_key or info.call_id,
        placed_at=info.started_at,
        debtor_timezones=zones,
        jurisdiction=jurisdiction_of(zones[0], info.lang),
        connected=True,
        consented=info.consented,
        by_phone=info.by_phone,
    )
    hits = checkers.calling_hours([record])
    if info.frequency_key is not None:
        history = await _debtor_history(db, rules, record, info)
        hits += checkers.call_frequency(info.call_id, [*history, record])
    return hits


async def _stored_zones(db: Database, info: CallInfo) -> tuple[str, ...]:
    """The time zones of the debtor's other stored calls (without a debtor id: of the other
    calls about the call's debt; without either: to its phone number; none without any)."""
    if info.frequency_key is None:
        return ()
    debtor_id, debt_id, phone_key = info.debtor_id or None, info.debt_id, info.phone_key

    def job() -> tuple[str, ...]:
        with db.session() as s:
            zones = repo.debtor_time_zones(
                s, debtor_id, besides=info.call_id, debt_id=debt_id, phone_key=phone_key
            )
            return tuple(zones)

    return await asyncio.to_thread(job)


async def _debtor_history(
    db: Database, rules: RulesSettings, current: CallRecord, info: CallInfo
) -> list[CallRecord]:
    """The debtor's earlier calls within the frequency rule's reach, as call records (each with
    its own debt and consent); a call that came with a debt id but no debtor id: the earlier
    calls about that debt; with neither: the earlier calls to its phone number, all counted
    with it (its own debt is not known)."""
    debtor_id, phone_key, by_phone = info.debtor_id or None, info.phone_key, info.by_phone
    days = max(rules.freq_window_days, rules.freq_after_conversation_days) + 1
    since = current.placed_at - timedelta(days=days)

    def job() -> list[CallRecord]:
        with db.session() as s:
            rows = repo.debtor_calls_since(
                s, debtor_id, since, besides=current.call_id, debt_id=info.debt_id, phone_key=phone_key
            )
            return [
                replace(
                    current,
                    call_id=row.call.id,
                    debt_id=current.debt_id if by_phone else row.debt_id,
                    placed_at=row.call.started_at,
                    debtor_timezones=repo.stored_zones(row.call.debtor_tz) or current.debtor_timezones[:1],
                    conversation=row.conversation,
                    consented=row.consented,
                )
                for row in rows
                if row.call.started_at <= current.placed_at
            ]

    return await asyncio.to_thread(job)
