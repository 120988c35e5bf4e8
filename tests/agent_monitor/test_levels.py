"""The one warning level enum: its order, ``none`` as the level that is not a warning, and the
storage columns that hold it (and the role column the role enum)."""

from __future__ import annotations

from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.storage.tables import Alert, Call, QaQueueItem, User
from agent_monitor.storage.types import StrEnumType


def test_order_and_rank() -> None:
    assert [lv.value for lv in WarningLevel] == ["none", "yellow", "orange", "red"]
    assert [lv.rank for lv in WarningLevel] == [0, 1, 2, 3]
    assert WarningLevel.NONE.bump() is WarningLevel.YELLOW and WarningLevel.RED.bump() is WarningLevel.RED
    assert WarningLevel.highest() is WarningLevel.NONE
    assert WarningLevel.highest(WarningLevel.ORANGE, WarningLevel.YELLOW) is WarningLevel.ORANGE


def test_none_is_the_only_level_that_is_not_a_warning() -> None:
    assert [lv for lv in WarningLevel if not lv.flagged] == [WarningLevel.NONE]
    assert WarningLevel.warnings() == (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)


def test_the_database_columns_hold_the_model_enums() -> None:
    for column in (Call.__table__.c.final_level, Alert.__table__.c.level, QaQueueItem.__table__.c.level):
        assert isinstance(column.type, StrEnumType) and column.type.enum_cls is WarningLevel, column
    role = User.__table__.c.role.type
    assert isinstance(role, StrEnumType) and role.enum_cls is Role
