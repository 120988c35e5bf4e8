"""The repository API: plain functions taking a :class:`~sqlalchemy.orm.Session`.

They add, change and query rows and ``flush``; the caller owns the transaction (``with
db.session() as s: ...`` commits). Missing records raise :class:`NotFoundError`, refused changes
:class:`InvalidTransitionError` / :class:`ConflictError` / :class:`InvalidRecordError`.

Times: call-clock times are float seconds since the call started; wall-clock times must be
tz-aware (any zone; stored and returned as UTC). Naive datetimes are refused.

Evidence rows (alerts, alert steps, audit records) are appended to hash chains under a per-chain
lock held until the transaction ends: commit right after appending, and when one transaction
appends to several chains, take them in the order alerts, alert_events, audit_log (as
:func:`raise_alert` does) so two transactions cannot wait on each other.

These functions block on the database: from asyncio code call them in a worker thread
(``await asyncio.to_thread(...)``) with a session per thread.
"""

from agent_monitor.storage.repo.alerts import (
    SYSTEM_ACTOR,
    acknowledge_alert,
    alert_events,
    escalate_handoff,
    escalate_if_due,
    get_alert,
    get_handoff,
    handoffs_due_for_escalation,
    list_alerts,
    list_handoffs,
    raise_alert,
    request_handoff,
    resolve_alert,
    take_over,
)
from agent_monitor.storage.repo.audit import (
    list_audit,
    lock_audit,
    record_audit,
)
from agent_monitor.storage.repo.calls import (
    AbortOutcome,
    DebtorCall,
    abort_call,
    abort_live_calls,
    call_debt,
    debtor_calls_since,
    debtor_time_zones,
    end_call,
    get_call,
    held_elsewhere,
    list_calls,
    raise_call_level,
    refuse_held_elsewhere,
    start_call,
    stored_zones,
)
from agent_monitor.storage.repo.findings import (
    add_stress_samples,
    list_rule_hits,
    save_rule_hit,
    set_rule_hit_status,
    stress_timeline,
    to_rule_hit,
)
from agent_monitor.storage.repo.health import (
    list_signal_health,
    save_signal_health,
    to_leg_health,
)
from agent_monitor.storage.repo.media import (
    PCM_S16LE,
    close_recording,
    get_recording,
    list_recordings,
    register_recording,
    require_recording,
    update_recording_progress,
)
from agent_monitor.storage.repo.people import (
    count_users,
    create_user,
    ensure_agent,
    get_agent,
    get_user,
    get_user_by_id,
    list_agents,
    list_users,
    require_user,
    set_password,
    set_user_active,
    set_user_role,
)
from agent_monitor.storage.repo.qa import (
    assign_qa,
    enqueue_for_qa,
    get_qa_item,
    list_qa_queue,
    list_reviews,
    release_qa,
    save_review,
)
from agent_monitor.storage.repo.qa_claim import claim_next
from agent_monitor.storage.repo.qa_forms import (
    current_form,
    default_form,
    get_form,
    latest_form,
    list_forms,
    save_form,
    to_form,
)
from agent_monitor.storage.repo.qa_search import (
    QueuePage,
    QueueQuery,
    QueueRow,
    next_in_queue,
    search_qa_queue,
)
from agent_monitor.storage.repo.rule_packs import (
    add_pack_version,
    file_switches,
    list_pack_versions,
    pack_selection,
    set_file_enabled,
    set_pack_enabled,
)
from agent_monitor.storage.repo.sessions import (
    end_user_sessions,
    revoke_session,
    session_revoked,
    sessions_ended,
)
from agent_monitor.storage.repo.teams import Team, list_teams, rename_team, set_agent_team, team_exists
from agent_monitor.storage.repo.transcripts import (
    list_utterances,
    save_utterance,
    to_transcript,
)

__all__ = [
    "PCM_S16LE",
    "SYSTEM_ACTOR",
    "AbortOutcome",
    "DebtorCall",
    "QueuePage",
    "QueueQuery",
    "QueueRow",
    "Team",
    "abort_call",
    "abort_live_calls",
    "acknowledge_alert",
    "add_pack_version",
    "add_stress_samples",
    "alert_events",
    "assign_qa",
    "call_debt",
    "claim_next",
    "close_recording",
    "count_users",
    "create_user",
    "current_form",
    "debtor_calls_since",
    "debtor_time_zones",
    "default_form",
    "end_call",
    "end_user_sessions",
    "enqueue_for_qa",
    "ensure_agent",
    "escalate_handoff",
    "escalate_if_due",
    "file_switches",
    "get_agent",
    "get_alert",
    "get_call",
    "get_form",
    "get_handoff",
    "get_qa_item",
    "get_recording",
    "get_user",
    "get_user_by_id",
    "handoffs_due_for_escalation",
    "held_elsewhere",
    "latest_form",
    "list_agents",
    "list_alerts",
    "list_audit",
    "list_calls",
    "list_forms",
    "list_handoffs",
    "list_pack_versions",
    "list_qa_queue",
    "list_recordings",
    "list_reviews",
    "list_rule_hits",
    "list_signal_health",
    "list_teams",
    "list_users",
    "list_utterances",
    "lock_audit",
    "next_in_queue",
    "pack_selection",
    "raise_alert",
    "raise_call_level",
    "record_audit",
    "refuse_held_elsewhere",
    "register_recording",
    "release_qa",
    "rename_team",
    "request_handoff",
    "require_recording",
    "require_user",
    "resolve_alert",
    "revoke_session",
    "save_form",
    "save_review",
    "save_rule_hit",
    "save_signal_health",
    "save_utterance",
    "search_qa_queue",
    "session_revoked",
    "sessions_ended",
    "set_agent_team",
    "set_file_enabled",
    "set_pack_enabled",
    "set_password",
    "set_rule_hit_status",
    "set_user_active",
    "set_user_role",
    "start_call",
    "stored_zones",
    "stress_timeline",
    "take_over",
    "team_exists",
    "to_form",
    "to_leg_health",
    "to_rule_hit",
    "to_transcript",
    "update_recording_progress",
]
