"""Storage: the database (SQLAlchemy 2 + Alembic) and the call recordings on disk.

- :mod:`.engine`: :class:`Database` / :func:`make_engine` from ``settings.effective_database_url``
  (SQLite in WAL mode by default; PostgreSQL through ``postgresql+psycopg://``).
- :mod:`.tables`: the ORM tables; :mod:`.enums`: their closed vocabularies.
- :mod:`.repo`: the repository functions the pipeline and the web application call.
- :mod:`.chain`: the tamper-evident hash chains over alerts, alert events and the audit log;
  :mod:`.integrity` verifies them and the alert states.
- :mod:`.migrate`: :func:`upgrade_database` and schema checks.
- :mod:`.recordings`: per-leg WAV recording writer and reader.
"""

from agent_monitor.storage.chain import Anchor, ChainReport, chain_anchors
from agent_monitor.storage.engine import Database, make_engine
from agent_monitor.storage.enums import (
    AlertAction,
    AlertState,
    CallStatus,
    HitStatus,
    QaState,
    Role,
    Verdict,
    WarningLevel,
)
from agent_monitor.storage.integrity import verify_chains
from agent_monitor.storage.migrate import require_current_schema, upgrade_database

__all__ = [
    "AlertAction",
    "AlertState",
    "Anchor",
    "CallStatus",
    "ChainReport",
    "Database",
    "HitStatus",
    "QaState",
    "Role",
    "Verdict",
    "WarningLevel",
    "chain_anchors",
    "make_engine",
    "require_current_schema",
    "upgrade_database",
    "verify_chains",
]
