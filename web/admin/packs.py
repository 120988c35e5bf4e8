"""``POST /api/admin/rules/try``: a rule pack tried on a line of text (admin, audited, nothing saved):
the pack in the request, or the rule set calls that start now are checked with (installed files
not disabled, uploaded packs enabled: the call manager's current checkers).

The rule engine is a stage the web layer does not import: the composition root hands it over as
``services.stages.packs`` (:class:`~agent_monitor.model.stages.RulePacks`)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import CallFacts, HitStatus, RuleHit
from agent_monitor.model.stages import CheckerFactory
from agent_monitor.model.transcript import Transcript
from web.auth.deps import AdminChange
from web.services import in_db, services_of
from web.ui.access import audit

router = APIRouter(prefix="/api/admin", tags=["admin"])


class TryBody(BaseModel):
    #: one utterance of the agent
    text: str = Field(min_length=1, max_length=5000)
    lang: str = Field("en", pattern=r"^[a-z]{2}$")
    #: a pack's YAML to try; ``null``: the rule set in use for new calls
    pack: str | None = Field(None, max_length=2_000_000)


class TriedHit(BaseModel):
    rule: str
    title: str
    category: str
    severity: str
    evidence: str
    span: list[int] | None
    #: the fact of the call the rule waits for (``after:``): tried as if said, in a call only after it
    after: str | None = None


class TryOut(BaseModel):
    hits: list[TriedHit]


@router.post("/rules/try", response_model=TryOut)
async def try_pack(request: Request, body: TryBody, user: AdminChange) -> TryOut:
    """The hits a pack (or the installed packs) finds in ``text``; a broken pack is a 422 saying why."""
    services = services_of(request)
    if body.pack is None:
        hits = await asyncio.to_thread(_in_use, services.manager.stages.checkers, body.text, body.lang)
    else:  # RulePackError: 422
        hits = await asyncio.to_thread(services.stages.packs.try_text, body.text, body.lang, body.pack)
    found: list[Any] = [
        TriedHit(
            rule=h.rule,
            title=h.title,
            category=h.category,
            severity=h.severity.value,
            evidence=h.evidence,
            span=None if h.span is None else list(h.span),
            after=h.after,
        )
        for h in hits
    ]
    shown = "uploaded" if body.pack else "installed"
    await in_db(request, lambda s: audit(s, user, "rule_pack_tried", "rule_pack", shown, hits=len(found)))
    return TryOut(hits=found)


def _in_use(checkers: CheckerFactory, text: str, lang: str) -> list[RuleHit]:
    """The hits of ``text`` as one final agent utterance, by the rule set new calls get now. As
    with a pack tried from the box (and a rule's examples), a rule that waits for a fact of the
    call (``after: wrong_party``) is tried as if the fact had been said before the text."""
    facts = CallFacts(all_said_at=0.0)
    events = checkers.checker(lang, Leg.AGENT, facts).update(
        Transcript(Leg.AGENT, 0, 0.0, 1.0, text, True, lang=lang)
    )
    return [e.hit for e in events if e.status is HitStatus.CONFIRMED]
