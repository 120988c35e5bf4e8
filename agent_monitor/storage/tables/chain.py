"""The head of each hash chain: its last position and hash (also the append lock)."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.storage.base import SHA256_HEX, Base


class ChainHead(Base):
    __tablename__ = "chain_heads"

    #: the chained table's name
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
