"""Finished QA reviews under a hash chain of their own, ``qa_review_seals``.

A QA reviewer's finished review (scorecard, comments, a verdict per alert, notes, score, form,
times) is the call's assessment: it counts in the reports and goes out with the evidence export.
Every transaction that finishes a review, or changes a finished one (finishing it again, or saving
it as a draft, which reopens it), appends just before it commits one
:class:`~agent_monitor.storage.tables.QaReviewSeal` per such review: its canonical content
(:func:`review_content`) as committed, the sha256 of it and the event (``finished`` or
``reopened``). A draft is work in progress and is not sealed. Rows are appended, never rewritten:
a review finished, reopened and finished again keeps all three versions in the chain, each one
readable and checked against its digest. :func:`install` hooks this into a session factory (as
:mod:`.evidence` does), so every write through the application's sessions is covered.

:func:`verify_reviews` (``db verify``) checks every sealed version's content against its digest
and every review against its newest seal: a finished review edited in the database (a score, a
verdict, the notes, the reviewer, its times), one finished or reopened behind the application's
back, or a sealed one deleted is reported. :func:`sealed_reviews` does the same for one call's
reviews and refuses (:class:`ConflictError`) for the evidence export. Reviews finished before this
chain existed were sealed as found by migration 0011 (event ``upgrade``): a change made to them
before then cannot be detected, and ``db verify`` lists them (:func:`sealed_at_upgrade`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, event, func, select, true
from sqlalchemy.orm import Session, sessionmaker

from agent_monitor.errors import ConflictError
from agent_monitor.storage import chain
from agent_monitor.storage.chain import ChainReport, canonical_json, text_digest
from agent_monitor.storage.tables import REVIEW_SEAL_EVENTS, QaReview, QaReviewSeal, QaVerdict
from agent_monitor.storage.types import utcnow

CHAIN = QaReviewSeal.__tablename__
FINISHED, REOPENED, UPGRADE = REVIEW_SEAL_EVENTS
#: the ``qa_reviews`` columns in a review's content (``updated_at`` is bookkeeping, left out)
REVIEW_COLUMNS = (
    "id",
    "call_id",
    "reviewer",
    "form_id",
    "scorecard",
    "comments",
    "score",
    "notes",
    "created_at",
    "finished_at",
)
_PENDING = "agent_monitor.review_seal_pending"
_REFUSED = "export refused; an administrator should run `agent-monitor db verify`"


def review_content(review: Mapping[Any, Any], verdicts: Iterable[Mapping[Any, Any]]) -> str:
    """The canonical JSON of a review (a mapping of its ``qa_reviews`` columns) and its verdicts
    (mappings of ``qa_verdicts`` columns): what a seal holds and hashes."""
    fields = {name: review[name] for name in REVIEW_COLUMNS}
    ordered = sorted(verdicts, key=lambda v: int(v["alert_id"]))
    fields["verdicts"] = [[int(v["alert_id"]), str(v["verdict"]), v["note"]] for v in ordered]
    return canonical_json("qa_review", fields)


@dataclass(frozen=True, slots=True)
class ReviewVersion:
    """A review as it is stored now: whose, of which call, finished or a draft, its content."""

    review_id: int
    call_id: str
    reviewer: str
    finished: bool
    content: str

    @property
    def digest(self) -> str:
        return text_digest(self.content)

    @property
    def label(self) -> str:
        return f"qa_reviews: review {self.review_id} (call {self.call_id!r}, reviewer {self.reviewer!r})"


@dataclass(frozen=True, slots=True)
class SealRef:
    """A review's newest seal (without its content)."""

    id: int
    event: str
    digest: str
    row_hash: str
    at: datetime
    call_id: str
    reviewer: str


def _version(row: Mapping[Any, Any], verdicts: Iterable[Mapping[Any, Any]]) -> ReviewVersion:
    content = review_content(row, verdicts)
    finished = row["finished_at"] is not None
    return ReviewVersion(int(row["id"]), str(row["call_id"]), str(row["reviewer"]), finished, content)


def _reviews_where(where: ColumnElement[bool]) -> Select[Any]:
    reviews = QaReview.__table__
    return select(reviews).where(where).order_by(reviews.c.id)


def _newest_where(where: ColumnElement[bool]) -> Select[Any]:
    """The newest seal of each review whose seals match ``where`` (over ``qa_review_seals``)."""
    seals = QaReviewSeal.__table__
    last = select(func.max(seals.c.id)).where(where).group_by(seals.c.review_id)
    cols = (seals.c.id, seals.c.event, seals.c.digest, seals.c.row_hash, seals.c.at)
    return select(seals.c.review_id, *cols, seals.c.call_id, seals.c.reviewer).where(seals.c.id.in_(last))


_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
# built once: sealing runs them at every commit that touches a review
_VERDICTS_OF = select(QaVerdict.__table__).where(QaVerdict.__table__.c.review_id.in_(_IDS))
_REVIEWS_OF = _reviews_where(QaReview.__table__.c.id.in_(_IDS))
_NEWEST_OF = _newest_where(QaReviewSeal.__table__.c.review_id.in_(_IDS))


def _versions(
    session: Session, stmt: Select[Any], params: Mapping[str, Any] | None = None
) -> list[ReviewVersion]:
    """The reviews ``stmt`` selects (whole ``qa_reviews`` rows), with their verdicts."""
    rows = session.execute(stmt, params).mappings().all()
    by_review: dict[Any, list[Mapping[Any, Any]]] = defaultdict(list)
    if rows:
        for v in session.execute(_VERDICTS_OF, {"ids": [r["id"] for r in rows]}).mappings():
            by_review[v["review_id"]].append(v)
    return [_version(r, by_review[r["id"]]) for r in rows]


def _newest(
    session: Session, stmt: Select[Any], params: Mapping[str, Any] | None = None
) -> dict[int, SealRef]:
    """Each review's newest seal that ``stmt`` (:func:`_newest_where`) selects, by review id."""
    return {int(r[0]): SealRef(*r[1:]) for r in session.execute(stmt, params)}


def mismatch(version: ReviewVersion, last: SealRef | None) -> str | None:
    """Why the review as stored disagrees with its newest seal ``last``, or None when it agrees
    (a draft agrees unless it was sealed finished last: drafts are not sealed)."""
    if not version.finished:
        if last is not None and last.event != REOPENED:
            return (
                f"{version.label} was sealed finished but is a draft now"
                " (reopened behind the application's back)"
            )
        return None
    if last is None or last.event == REOPENED:
        return (
            f"{version.label} is finished but its finishing was never sealed"
            " (finished behind the application's back)"
        )
    if last.digest != version.digest:
        return f"{version.label} was changed after it was finished (seal digest mismatch)"
    return None


# --- sealing at commit -----------------------------------------------------------------------------
def install(factory: sessionmaker[Session]) -> None:
    """Seal the reviews finished or changed after finishing in sessions of ``factory`` (once per
    factory; before :func:`agent_monitor.storage.evidence.install`, whose commit hook seals last
    whatever the commit flushed)."""
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "before_commit", _seal)
    event.listen(factory, "after_soft_rollback", _forget)


def _collect(session: Session, flush_context: Any) -> None:
    ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, QaReview):
            ids.add(obj.id)
        elif isinstance(obj, QaVerdict):
            ids.add(obj.review_id)
    if ids:
        session.info.setdefault(_PENDING, set()).update(ids)


def _seal(session: Session) -> None:
    session.flush()
    ids: set[int] | None = session.info.pop(_PENDING, None)
    if ids:
        head = chain.lock_chain(session, CHAIN)
        chain.append_all(session, seals_for(session, ids), head=head)
        session.info.pop(_PENDING, None)


def _forget(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


def seals_for(session: Session, review_ids: Iterable[int]) -> list[QaReviewSeal]:
    """The seals the reviews ``review_ids`` need as they are now: one for a review finished with
    content its newest seal does not hold, one for a finished review saved as a draft. Take the
    chain's append lock first (:func:`~agent_monitor.storage.chain.lock_chain`), so that their
    newest seals cannot change meanwhile."""
    params = {"ids": sorted(review_ids)}
    newest = _newest(session, _NEWEST_OF, params)
    now, out = utcnow(), []
    for version in _versions(session, _REVIEWS_OF, params):
        if mismatch(version, newest.get(version.review_id)) is None:
            continue
        out.append(
            QaReviewSeal(
                review_id=version.review_id,
                call_id=version.call_id,
                reviewer=version.reviewer,
                event=FINISHED if version.finished else REOPENED,
                digest=version.digest,
                content=version.content,
                at=now,
            )
        )
    return out


# --- verification ------------------------------------------------------------------------------
def verify_reviews(session: Session) -> ChainReport:
    """Check every sealed version against its digest and every review against its newest seal."""
    problems: list[str] = []
    newest = _check_seals(session, problems)
    rows = 0
    for version in _all_versions(session):
        rows += 1
        if (problem := mismatch(version, newest.pop(version.review_id, None))) is not None:
            problems.append(problem)
    for review_id, seal in sorted(newest.items()):
        problems.append(
            f"qa_reviews: review {review_id} (call {seal.call_id!r}, reviewer {seal.reviewer!r})"
            " is sealed but missing (deleted)"
        )
    return ChainReport("qa_reviews", rows, 0, "", tuple(problems))


def _check_seals(session: Session, problems: list[str]) -> dict[int, SealRef]:
    """Stream the chain: each row's content against its digest; the newest seal of each review."""
    seals = QaReviewSeal.__table__
    newest: dict[int, SealRef] = {}
    stmt = select(seals).order_by(seals.c.id).execution_options(yield_per=1000)
    for row in session.execute(stmt).mappings():
        if text_digest(row["content"]) != row["digest"]:
            problems.append(f"{CHAIN}: row {row['id']} holds content that does not match its digest")
        fields = ("id", "event", "digest", "row_hash", "at", "call_id", "reviewer")
        newest[int(row["review_id"])] = SealRef(*(row[f] for f in fields))
    return newest


def _all_versions(session: Session) -> Iterator[ReviewVersion]:
    verdicts = QaVerdict.__table__
    by_review: dict[Any, list[Mapping[Any, Any]]] = defaultdict(list)
    for v in session.execute(select(verdicts).execution_options(yield_per=5000)).mappings():
        by_review[v["review_id"]].append(v)
    reviews = QaReview.__table__
    stmt = select(reviews).order_by(reviews.c.id).execution_options(yield_per=1000)
    for row in session.execute(stmt).mappings():
        yield _version(row, by_review.get(row["id"], ()))


def sealed_at_upgrade(session: Session) -> list[str]:
    """The reviews whose newest seal is the one migration 0011 gave them as it found them
    (finished before reviews were sealed: a change made before then cannot be detected)."""
    newest = _newest(session, _newest_where(true()))
    return [
        f"review {review_id} (call {seal.call_id!r}, reviewer {seal.reviewer!r})"
        for review_id, seal in sorted(newest.items())
        if seal.event == UPGRADE
    ]


# --- the evidence export -----------------------------------------------------------------------
def sealed_reviews(session: Session, call_id: str) -> list[dict[str, Any]]:
    """For the export's manifest: each review of the call with the seal that holds it. Raises
    :class:`ConflictError` when one no longer matches its newest seal or a sealed one is gone."""
    seals = QaReviewSeal.__table__
    newest = _newest(session, _newest_where(seals.c.call_id == call_id))
    stmt = select(seals.c.review_id, func.count()).where(seals.c.call_id == call_id)
    counts = {int(r): int(n) for r, n in session.execute(stmt.group_by(seals.c.review_id))}
    out = []
    for version in _versions(session, _reviews_where(QaReview.__table__.c.call_id == call_id)):
        last = newest.pop(version.review_id, None)
        if mismatch(version, last) is not None:
            raise ConflictError(
                f"call {call_id!r}: {version.reviewer}'s QA review does not match its seal"
                f" (changed after it was finished): {_REFUSED}"
            )
        out.append(_manifest_entry(version, last, counts.get(version.review_id, 0)))
    if newest:
        raise ConflictError(f"call {call_id!r}: a sealed QA review is missing (deleted): {_REFUSED}")
    return out


def _manifest_entry(version: ReviewVersion, last: SealRef | None, versions: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"reviewer": version.reviewer, "sealed_versions": versions}
    if not version.finished or last is None:
        return entry | {"state": "draft", "note": "a draft (work in progress): not sealed"}
    entry |= {
        "state": "finished",
        "sealed_digest": last.digest,
        "qa_review_seals": {"id": last.id, "event": last.event, "at": last.at.isoformat()}
        | {"row_hash": last.row_hash},
    }
    if last.event == UPGRADE:
        entry["note"] = "finished before reviews were sealed: sealed as found at the upgrade to schema 0011"
    return entry
