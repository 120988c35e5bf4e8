"""Rule packs administered from the admin page: every uploaded pack text is a new, immutable
version (``rule_pack_versions``); the packs installed as files (``rules.packs``) can be switched off
(``rule_pack_files``). At most one version of an uploaded pack is enabled at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.storage.base import Base
from agent_monitor.storage.types import UTCDateTime, utcnow

#: an uploaded pack's ``pack:`` name, characters at most
MAX_PACK_NAME_CHARS = 100


class RulePackVersion(Base):
    __tablename__ = "rule_pack_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the pack's ``pack:`` name
    name: Mapped[str] = mapped_column(String(MAX_PACK_NAME_CHARS), index=True)
    #: 1, 2, 3, ... per name
    version: Mapped[int] = mapped_column(Integer)
    #: the YAML as uploaded
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class RulePackFile(Base):
    """The switch of one installed pack file (no row: enabled)."""

    __tablename__ = "rule_pack_files"

    #: the file as the admin knows it (``en/abuse.yaml``, relative to its pack folder)
    file: Mapped[str] = mapped_column(String(300), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
