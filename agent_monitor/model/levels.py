"""The warning level of a call or an alert: the one level vocabulary, from settings to the pages.

Levels are ordered ``none < yellow < orange < red`` (their definition order; :attr:`rank` is the
position). ``none`` is a level like the others (a call that has raised nothing), but it is not a
warning: :attr:`WarningLevel.flagged` is false for it alone and :meth:`WarningLevel.warnings` leaves
it out. The values are what the database stores and what the web pages receive.
"""

from __future__ import annotations

from enum import StrEnum


class WarningLevel(StrEnum):
    """The warning level of a call or an alert, in increasing order of severity."""

    NONE = "none"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 for ``none`` up to 3 for ``red``."""
        return _ORDER.index(self)

    @property
    def flagged(self) -> bool:
        """Whether this level is a warning at all (every level but ``none``)."""
        return self is not WarningLevel.NONE

    def bump(self) -> WarningLevel:
        """One level higher (red stays red; none becomes yellow)."""
        return _ORDER[min(len(_ORDER) - 1, self.rank + 1)]

    @staticmethod
    def highest(*levels: WarningLevel) -> WarningLevel:
        """The most severe of ``levels`` (``none`` when there are none)."""
        return max(levels, key=lambda lv: lv.rank, default=WarningLevel.NONE)

    @staticmethod
    def warnings() -> tuple[WarningLevel, ...]:
        """The levels that are warnings (all but ``none``), in increasing order."""
        return tuple(lv for lv in _ORDER if lv.flagged)


_ORDER: tuple[WarningLevel, ...] = tuple(WarningLevel)
