"""The ORM tables. Importing this package registers every table on :data:`Base.metadata`."""

from agent_monitor.storage.tables.alerts import Alert, AlertEvent, Handoff
from agent_monitor.storage.tables.audit import AuditEntry
from agent_monitor.storage.tables.calls import Call, CallDebt, CallHolder, CallPhone, Utterance, WordRow
from agent_monitor.storage.tables.chain import ChainHead
from agent_monitor.storage.tables.evidence import EVIDENCE_KINDS, EvidenceEntry
from agent_monitor.storage.tables.findings import RuleHitRow, StressSampleRow
from agent_monitor.storage.tables.health import SignalHealthRow
from agent_monitor.storage.tables.media import Recording
from agent_monitor.storage.tables.people import Agent, User
from agent_monitor.storage.tables.qa import QaQueueItem, QaReview, QaVerdict
from agent_monitor.storage.tables.qa_forms import QaForm
from agent_monitor.storage.tables.qa_seals import REVIEW_SEAL_EVENTS, QaReviewSeal
from agent_monitor.storage.tables.rule_packs import RulePackFile, RulePackVersion
from agent_monitor.storage.tables.sessions import RevokedSession

__all__ = [
    "EVIDENCE_KINDS",
    "REVIEW_SEAL_EVENTS",
    "Agent",
    "Alert",
    "AlertEvent",
    "AuditEntry",
    "Call",
    "CallDebt",
    "CallHolder",
    "CallPhone",
    "ChainHead",
    "EvidenceEntry",
    "Handoff",
    "QaForm",
    "QaQueueItem",
    "QaReview",
    "QaReviewSeal",
    "QaVerdict",
    "Recording",
    "RevokedSession",
    "RuleHitRow",
    "RulePackFile",
    "RulePackVersion",
    "SignalHealthRow",
    "StressSampleRow",
    "User",
    "Utterance",
    "WordRow",
]
