"""What a user of the web application may do: the one role vocabulary (stored, checked, served)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The role of a user; the values are what the database stores and the pages receive."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    ADMIN = "admin"
