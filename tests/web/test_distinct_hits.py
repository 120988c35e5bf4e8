"""The review page lists each finding once: old duplicate rows are collapsed, separate occurrences
of a rule in one utterance are not."""

from __future__ import annotations

from agent_monitor.model.audio import Leg
from agent_monitor.storage.enums import HitStatus
from agent_monitor.storage.tables import RuleHitRow
from web.ui.serialize import distinct_hits


def _row(
    id: int, rule: str, utt: int | None, span: tuple[int, int] | None, status: HitStatus, leg: Leg = Leg.AGENT
) -> RuleHitRow:
    return RuleHitRow(
        id=id,
        rule_id=rule,
        leg=leg,
        utterance_no=utt,
        span_start=span[0] if span else None,
        span_end=span[1] if span else None,
        status=status,
    )


def test_old_duplicates_collapse_and_occurrences_stay() -> None:
    rows = [
        _row(1, "insult", 2, (0, 6), HitStatus.PROVISIONAL),  # a partial's hit left standing ...
        _row(2, "insult", 2, (0, 18), HitStatus.CONFIRMED),  # ... beside the final's
        _row(3, "insult", 2, (30, 40), HitStatus.CONFIRMED),  # a second occurrence
        _row(4, "insult", 3, (0, 6), HitStatus.CONFIRMED),  # another utterance
        _row(5, "insult", 2, (0, 6), HitStatus.CONFIRMED, Leg.DEBTOR),  # another leg
        _row(6, "disc-id", None, None, HitStatus.CONFIRMED),  # a must-say finding ...
        _row(7, "disc-id", None, None, HitStatus.CONFIRMED),  # ... stored again by a resumed call
    ]
    assert [r.id for r in distinct_hits(rows)] == [2, 3, 4, 5, 7]
