"""Initial schema: people, calls, transcripts, findings, alerts (hash-chained), QA, recordings, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written to match ``agent_monitor.storage.tables`` exactly (the storage tests compare them).
Column types are plain SQLAlchemy types: ``UTCDateTime`` is ``DateTime(timezone=True)`` and
``StrEnumType`` is ``String(20)``, so this script does not import application code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the hash chains and the hash every chain starts from (see agent_monitor.storage.chain)
CHAINS = ("alerts", "alert_events", "audit_log")
GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_index(op.f("ix_agents_team"), "agents", ["team"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=True),
        sa.Column("object_id", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_audit_log_row_hash")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_object_id"), "audit_log", ["object_id"], unique=False)

    op.create_table(
        "chain_heads",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chain_heads")),
    )
    chain_heads = sa.table(
        "chain_heads",
        sa.column("name", sa.String),
        sa.column("seq", sa.Integer),
        sa.column("head_hash", sa.String),
    )
    op.bulk_insert(
        chain_heads,
        [{"name": name, "seq": 0, "head_hash": GENESIS_HASH} for name in CHAINS],
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("debtor_id", sa.String(length=64), nullable=True),
        sa.Column("debtor_phone", sa.String(length=32), nullable=True),
        sa.Column("debtor_tz", sa.String(length=64), nullable=True),
        sa.Column("source_protocol", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("final_level", sa.String(length=20), nullable=False),
        sa.Column("high_sensitivity", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "final_level IN ('none', 'yellow', 'orange', 'red')", name=op.f("ck_calls_final_level")
        ),
        sa.CheckConstraint("status IN ('live', 'ended', 'aborted')", name=op.f("ck_calls_status")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_calls_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_agent_id"), "calls", ["agent_id"], unique=False)
    op.create_index(op.f("ix_calls_debtor_id"), "calls", ["debtor_id"], unique=False)
    op.create_index(op.f("ix_calls_final_level"), "calls", ["final_level"], unique=False)
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"], unique=False)
    op.create_index(op.f("ix_calls_status"), "calls", ["status"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role <> 'agent' OR agent_id IS NOT NULL", name=op.f("ck_users_agent_has_agent_id")
        ),
        sa.CheckConstraint("role IN ('agent', 'supervisor', 'qa', 'admin')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_users_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_agent_id"), "users", ["agent_id"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("raised_at_s", sa.Double(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("level IN ('none', 'yellow', 'orange', 'red')", name=op.f("ck_alerts_level")),
        sa.CheckConstraint("state IN ('raised', 'acknowledged', 'resolved')", name=op.f("ck_alerts_state")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_alerts_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_alerts_row_hash")),
    )
    op.create_index(op.f("ix_alerts_call_id"), "alerts", ["call_id"], unique=False)
    op.create_index(op.f("ix_alerts_raised_at"), "alerts", ["raised_at"], unique=False)

    op.create_table(
        "qa_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("assigned_to", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level IN ('none', 'yellow', 'orange', 'red')", name=op.f("ck_qa_queue_level")),
        sa.CheckConstraint("state IN ('pending', 'in_review', 'done')", name=op.f("ck_qa_queue_state")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_qa_queue_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_queue")),
        sa.UniqueConstraint("call_id", name=op.f("uq_qa_queue_call_id")),
    )
    op.create_index(op.f("ix_qa_queue_level"), "qa_queue", ["level"], unique=False)
    op.create_index(op.f("ix_qa_queue_queued_at"), "qa_queue", ["queued_at"], unique=False)
    op.create_index(op.f("ix_qa_queue_state"), "qa_queue", ["state"], unique=False)

    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("scorecard", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_qa_reviews_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_reviews")),
        sa.UniqueConstraint("call_id", "reviewer", name=op.f("uq_qa_reviews_call_id_reviewer")),
    )
    op.create_index(op.f("ix_qa_reviews_call_id"), "qa_reviews", ["call_id"], unique=False)

    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("leg", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=16), nullable=False),
        sa.Column("bytes_written", sa.BigInteger(), nullable=False),
        sa.Column("samples_written", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("leg IN ('agent', 'debtor')", name=op.f("ck_recordings_leg")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_recordings_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("call_id", "leg", name=op.f("uq_recordings_call_id_leg")),
    )
    op.create_index(op.f("ix_recordings_call_id"), "recordings", ["call_id"], unique=False)

    op.create_table(
        "stress_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("leg", sa.String(length=20), nullable=False),
        sa.Column("t_s", sa.Double(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("baseline", sa.String(length=20), nullable=False),
        sa.Column("raw", sa.Double(), nullable=True),
        sa.Column("speech_s", sa.Double(), nullable=False),
        sa.CheckConstraint("baseline IN ('absolute', 'relative')", name=op.f("ck_stress_samples_baseline")),
        sa.CheckConstraint("leg IN ('agent', 'debtor')", name=op.f("ck_stress_samples_leg")),
        sa.CheckConstraint("level IN ('none', 'elevated', 'high')", name=op.f("ck_stress_samples_level")),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_stress_samples_score_range")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_stress_samples_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stress_samples")),
    )
    op.create_index("ix_stress_samples_call_leg_t", "stress_samples", ["call_id", "leg", "t_s"], unique=False)

    op.create_table(
        "utterances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("leg", sa.String(length=20), nullable=False),
        sa.Column("utterance_no", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Double(), nullable=False),
        sa.Column("end_s", sa.Double(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("leg IN ('agent', 'debtor')", name=op.f("ck_utterances_leg")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_utterances_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_utterances")),
        sa.UniqueConstraint(
            "call_id", "leg", "utterance_no", name=op.f("uq_utterances_call_id_leg_utterance_no")
        ),
    )
    op.create_index(op.f("ix_utterances_call_id"), "utterances", ["call_id"], unique=False)

    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at_s", sa.Double(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "action IN ('acknowledged', 'resolved', 'handoff_requested', 'escalated', 'taken_over')",
            name=op.f("ck_alert_events_action"),
        ),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_events_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_alert_events_row_hash")),
    )
    op.create_index(op.f("ix_alert_events_alert_id"), "alert_events", ["alert_id"], unique=False)

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_over_by", sa.String(length=100), nullable=True),
        sa.Column("taken_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_handoffs_alert_id_alerts")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_handoffs_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_handoffs_alert_id")),
    )
    op.create_index(op.f("ix_handoffs_call_id"), "handoffs", ["call_id"], unique=False)

    op.create_table(
        "qa_verdicts",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("verdict IN ('confirmed', 'false_alarm')", name=op.f("ck_qa_verdicts_verdict")),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_qa_verdicts_alert_id_alerts")),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["qa_reviews.id"],
            name=op.f("fk_qa_verdicts_review_id_qa_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", "alert_id", name=op.f("pk_qa_verdicts")),
    )
    op.create_index(op.f("ix_qa_verdicts_alert_id"), "qa_verdicts", ["alert_id"], unique=False)

    op.create_table(
        "rule_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("utterance_id", sa.Integer(), nullable=True),
        sa.Column("utterance_no", sa.Integer(), nullable=True),
        sa.Column("leg", sa.String(length=20), nullable=True),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("compliant", sa.Text(), nullable=True),
        sa.Column("start_s", sa.Double(), nullable=True),
        sa.Column("end_s", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("leg IN ('agent', 'debtor')", name=op.f("ck_rule_hits_leg")),
        sa.CheckConstraint(
            "status IN ('provisional', 'confirmed', 'withdrawn')", name=op.f("ck_rule_hits_status")
        ),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_rule_hits_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["utterance_id"], ["utterances.id"], name=op.f("fk_rule_hits_utterance_id_utterances")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_hits")),
    )
    op.create_index(op.f("ix_rule_hits_call_id"), "rule_hits", ["call_id"], unique=False)
    op.create_index(op.f("ix_rule_hits_rule_id"), "rule_hits", ["rule_id"], unique=False)
    op.create_index(op.f("ix_rule_hits_utterance_id"), "rule_hits", ["utterance_id"], unique=False)

    op.create_table(
        "words",
        sa.Column("utterance_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("start_s", sa.Double(), nullable=False),
        sa.Column("end_s", sa.Double(), nullable=False),
        sa.Column("conf", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["utterance_id"],
            ["utterances.id"],
            name=op.f("fk_words_utterance_id_utterances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("utterance_id", "idx", name=op.f("pk_words")),
    )


def downgrade() -> None:
    op.drop_table("words")
    op.drop_index(op.f("ix_rule_hits_utterance_id"), table_name="rule_hits")
    op.drop_index(op.f("ix_rule_hits_rule_id"), table_name="rule_hits")
    op.drop_index(op.f("ix_rule_hits_call_id"), table_name="rule_hits")

    op.drop_table("rule_hits")
    op.drop_index(op.f("ix_qa_verdicts_alert_id"), table_name="qa_verdicts")

    op.drop_table("qa_verdicts")
    op.drop_index(op.f("ix_handoffs_call_id"), table_name="handoffs")

    op.drop_table("handoffs")
    op.drop_index(op.f("ix_alert_events_alert_id"), table_name="alert_events")

    op.drop_table("alert_events")
    op.drop_index(op.f("ix_utterances_call_id"), table_name="utterances")

    op.drop_table("utterances")
    op.drop_index("ix_stress_samples_call_leg_t", table_name="stress_samples")

    op.drop_table("stress_samples")
    op.drop_index(op.f("ix_recordings_call_id"), table_name="recordings")

    op.drop_table("recordings")
    op.drop_index(op.f("ix_qa_reviews_call_id"), table_name="qa_reviews")

    op.drop_table("qa_reviews")
    op.drop_index(op.f("ix_qa_queue_state"), table_name="qa_queue")
    op.drop_index(op.f("ix_qa_queue_queued_at"), table_name="qa_queue")
    op.drop_index(op.f("ix_qa_queue_level"), table_name="qa_queue")

    op.drop_table("qa_queue")
    op.drop_index(op.f("ix_alerts_raised_at"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_call_id"), table_name="alerts")

    op.drop_table("alerts")
    op.drop_index(op.f("ix_users_agent_id"), table_name="users")

    op.drop_table("users")
    op.drop_index(op.f("ix_calls_status"), table_name="calls")
    op.drop_index(op.f("ix_calls_started_at"), table_name="calls")
    op.drop_index(op.f("ix_calls_final_level"), table_name="calls")
    op.drop_index(op.f("ix_calls_debtor_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_agent_id"), table_name="calls")

    op.drop_table("calls")
    op.drop_table("chain_heads")
    op.drop_index(op.f("ix_audit_log_object_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")

    op.drop_table("audit_log")
    op.drop_index(op.f("ix_agents_team"), table_name="agents")

    op.drop_table("agents")
