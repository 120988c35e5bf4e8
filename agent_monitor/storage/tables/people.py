"""Agents (the people on calls, keyed by the telephony system's id) and web-application users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.model.identifiers import MAX_ID_CHARS
from agent_monitor.model.roles import Role
from agent_monitor.storage.base import Base, in_check
from agent_monitor.storage.types import StrEnumType, UTCDateTime, utcnow


class Agent(Base):
    __tablename__ = "agents"

    #: the agent id used by the telephony system / ingest protocols
    id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(in_check("role", list(Role)), name="role"),
        CheckConstraint("role <> 'agent' OR agent_id IS NOT NULL", name="agent_has_agent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    #: an argon2/bcrypt hash string made by the web layer; never a password
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    #: for role ``agent``: the agent this user is
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"), index=True)
    #: for role ``supervisor``: the team whose live calls they see; for an agent: their team (also
    #: written onto their agent row, which the supervisors' scopes follow)
    team: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
