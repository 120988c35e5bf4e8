"""Versioned QA scorecard forms: saving a form under an existing name adds a new version; old
versions stay (the reviews scored on them point at them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent_monitor.errors import ConflictError, NotFoundError
from agent_monitor.model.scorecard import DEFAULT_FORM, FormItem, ScorecardForm
from agent_monitor.storage.repo.alerts import SYSTEM_ACTOR
from agent_monitor.storage.tables import QaForm
from agent_monitor.storage.types import utcnow


def to_form(row: QaForm) -> ScorecardForm:
    return ScorecardForm(row.name, row.title, tuple(FormItem.parse(i) for i in row.items))


def _latest(session: Session, name: str) -> QaForm | None:
    stmt = select(QaForm).where(QaForm.name == name).order_by(QaForm.version.desc()).limit(1)
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def _same(row: QaForm, form: ScorecardForm, items: list[dict[str, object]]) -> bool:
    return row.items == items and row.title == form.title


def save_form(session: Session, form: ScorecardForm, actor: str) -> QaForm:
    """Store ``form`` as the next version of its name (version 1 for a new name); an unchanged
    form returns its latest version instead of adding a copy, also when the same form is saved
    twice at once (a double click, or two first reads seeding the default form). A different form
    saved at the same time as this one and taking its version number first is a
    :class:`ConflictError`."""
    latest = _latest(session, form.name)
    items = [i.as_dict() for i in form.items]
    if latest is not None and _same(latest, form, items):
        return latest
    row = QaForm(
        name=form.name,
        version=(latest.version + 1) if latest else 1,
        title=form.title,
        items=items,
        created_by=actor,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        latest = _latest(session, form.name)
        if latest is not None and _same(latest, form, items):
            return latest
        raise ConflictError(
            f"form {form.name!r} was saved by someone else at the same time; reload it and save again"
        ) from None
    return row


def latest_form(session: Session) -> QaForm | None:
    """The form new reviews are scored on, read only: the version saved last; ``None`` while none
    is stored (a listing creates nothing; :func:`current_form` seeds the default form)."""
    return session.scalars(select(QaForm).order_by(QaForm.id.desc()).limit(1)).one_or_none()


def current_form(session: Session) -> QaForm:
    """The form new reviews are scored on: the version saved last (the default form is seeded
    as version 1 of ``default`` when there is none: a review, and the pages scoring one, need it)."""
    row = latest_form(session)
    if row is None:
        row = save_form(session, default_form(), SYSTEM_ACTOR)
    return row


def default_form() -> ScorecardForm:
    """The form a new database's reviews are scored on until another is saved."""
    return ScorecardForm.parse(DEFAULT_FORM)


def get_form(session: Session, form_id: int) -> QaForm:
    """One stored form version (read only)."""
    row = session.get(QaForm, form_id)
    if row is None:
        raise NotFoundError(f"no scorecard form version {form_id}")
    return row


def list_forms(session: Session) -> list[QaForm]:
    """Every stored version of every form, by name then version (read only: none before the
    default form is seeded or a form saved)."""
    return list(session.scalars(select(QaForm).order_by(QaForm.name, QaForm.version)))
