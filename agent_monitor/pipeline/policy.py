"""The alert policy of one call: rule hits and debtor stress in, decisions out. Pure: no I/O.

What the call session does with each input, decided here (the session then publishes and stores):

* **Warn the agent** of an agent-side hit of at least yellow severity, once per (leg, utterance,
  rule): at once when confirmed, or already when provisional if ``fusion.act_on_provisional``.
* **Hit bookkeeping.** Every hit row carries a key (a uuid). A provisional hit gets a new row and
  waits for its utterance's final; the final's confirmed or withdrawn event *settles* that row
  (same key, oldest first); a confirmed hit nobody announced gets a new row; a withdrawn hit with
  nothing pending is not stored at all. ``hits`` counts the rows that stand (a withdrawal takes
  one back). A resumed call's policy is told the call-level findings stored before
  (:meth:`AlertPolicy.restore`): the same finding is not stored, nor the agent warned, again.
* **Raise an alert** whenever :class:`~agent_monitor.pipeline.fusion.Fusion` raises the call
  level; at red the alert asks for a **handoff** to supervisors; an alert at or above
  ``live.qa_level`` that is higher than any queued before **queues the call for QA**.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitEvent, HitStatus, RuleHit, shown_to_agent
from agent_monitor.model.stress import StressSample
from agent_monitor.pipeline.fusion import Fusion, LevelDecision, hit_time
from agent_monitor.settings import FusionSettings

#: one hit of one rule in one utterance of one leg
HitSlot = tuple[Leg | None, int | None, str]


class HitRow(StrEnum):
    """What happens to the stored row of a hit event."""

    NEW = "new"  # a new row with ``hit_key``
    SETTLE = "settle"  # the pending provisional row ``hit_key`` takes the event's status
    NONE = "none"  # nothing stored (a withdrawal of a hit that was never stored)


@dataclass(frozen=True, slots=True)
class AlertDecision:
    """The call level rose: publish and store an alert; ``handoff`` at red; ``queue_qa`` with
    ``qa_reason`` when the call goes to the QA queue at this level."""

    level: LevelDecision
    handoff: bool
    queue_qa: bool
    qa_reason: str

    @property
    def t(self) -> float:
        return self.level.t


@dataclass(frozen=True, slots=True)
class HitDecision:
    """What to do with one rule hit event, in order: warn the agent, store, publish, alert."""

    t: float
    warn_agent: bool
    row: HitRow
    hit_key: str | None
    alert: AlertDecision | None


def _new_key() -> str:
    return str(uuid.uuid4())


class AlertPolicy:
    """The decisions of one call (see the module documentation). Feed it in call order."""

    def __init__(
        self, fusion: FusionSettings, qa_level: WarningLevel, new_key: Callable[[], str] = _new_key
    ) -> None:
        self.settings = fusion
        self.fusion = Fusion(fusion)
        self.qa_level = qa_level
        self._new_key = new_key
        #: keys of provisional hit rows waiting for their final transcript
        self._provisional: dict[HitSlot, list[str]] = {}
        self._warned: set[HitSlot] = set()
        #: call-level findings stored by an earlier session of a resumed call
        self._stored: set[HitSlot] = set()
        self._queued = WarningLevel.NONE
        #: hit rows that stand
        self.hits = 0

    @property
    def level(self) -> WarningLevel:
        return self.fusion.level

    def on_hit(self, event: HitEvent, default_t: float) -> HitDecision:
        """One rule hit event; ``default_t``: the call time for a hit without evidence times."""
        hit, status = event.hit, event.status
        t = hit_time(hit, default_t)
        slot = (hit.leg, hit.utterance, hit.rule)
        warn = self._warns(slot, hit, status)
        row, key = self._row(slot, status)
        level = self.fusion.on_hit(status, hit, t)
        return HitDecision(t, warn, row, key, self._alert(level))

    def restore(self, findings: Iterable[tuple[Leg | None, str]]) -> None:
        """A resumed call: the (leg, rule) of the call-level findings its earlier sessions stored."""
        for leg, rule in findings:
            slot = (leg, None, rule)
            self._stored.add(slot)
            self._warned.add(slot)

    def on_stress(self, sample: StressSample) -> AlertDecision | None:
        """One stress sample of the debtor."""
        return self._alert(self.fusion.on_stress(sample))

    def _warns(self, slot: HitSlot, hit: RuleHit, status: HitStatus) -> bool:
        acted_on = status is HitStatus.CONFIRMED or (
            status is HitStatus.PROVISIONAL and self.settings.act_on_provisional
        )
        if not acted_on or not shown_to_agent(hit.leg, hit.severity, hit.compliant):
            return False
        if slot in self._warned:
            return False
        self._warned.add(slot)
        return True

    def _row(self, slot: HitSlot, status: HitStatus) -> tuple[HitRow, str | None]:
        pending = self._provisional.get(slot)
        if status is HitStatus.PROVISIONAL:
            self.hits += 1
            key = self._new_key()
            self._provisional.setdefault(slot, []).append(key)
            return HitRow.NEW, key
        if pending:
            if status is HitStatus.WITHDRAWN:
                self.hits -= 1
            return HitRow.SETTLE, pending.pop(0)
        if status is HitStatus.WITHDRAWN or slot in self._stored:
            return HitRow.NONE, None
        self.hits += 1
        return HitRow.NEW, self._new_key()

    def _alert(self, decision: LevelDecision | None) -> AlertDecision | None:
        if decision is None:
            return None
        level = decision.level
        queue = level.rank >= self.qa_level.rank and level.rank > self._queued.rank
        if queue:
            self._queued = level
        reason = "; ".join(r.text for r in decision.reasons[:3]) if queue else ""
        return AlertDecision(decision, handoff=level is WarningLevel.RED, queue_qa=queue, qa_reason=reason)
