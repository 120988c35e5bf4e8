"""Per-leg call recordings on disk (WAV files written as audio arrives)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.model.audio import Leg
from agent_monitor.storage.base import SHA256_HEX, Base, in_check
from agent_monitor.storage.types import StrEnumType, UTCDateTime


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (
        UniqueConstraint("call_id", "leg"),
        CheckConstraint(in_check("leg", list(Leg)), name="leg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    leg: Mapped[Leg] = mapped_column(StrEnumType(Leg))
    #: file path; relative paths are relative to the settings' ``data_dir``
    path: Mapped[str] = mapped_column(String(1000))
    sample_rate: Mapped[int] = mapped_column(Integer)
    #: sample format in the file; ``pcm_s16le`` (16-bit little-endian mono WAV)
    encoding: Mapped[str] = mapped_column(String(16))
    #: audio bytes (WAV header excluded) and samples written so far / in total
    bytes_written: Mapped[int] = mapped_column(BigInteger, default=0)
    samples_written: Mapped[int] = mapped_column(BigInteger, default=0)
    #: hex sha256 of the whole file, set when the recording is closed
    sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the node whose process writes (or last wrote) the file (``Settings.node_id``): on a floor,
    #: the only node that may seal it once its process is gone; digested only when set (a row
    #: stored before revision 0017 has none and keeps its digest)
    writer: Mapped[str | None] = mapped_column(String(200))
