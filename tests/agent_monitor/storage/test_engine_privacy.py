"""Issue #15 item 13: database errors do not carry bound values (a phone number) into logs and
messages, on SQLite and PostgreSQL (whose ``DETAIL`` line quotes the failing row)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from agent_monitor.storage import Database, repo
from agent_monitor.storage.tables.calls import Call

PHONE = "+14155559876"


@pytest.mark.parametrize("missing_time", [False, True])
def test_database_errors_hide_bound_values(db: Database, missing_time: bool) -> None:
    assert db.engine.hide_parameters
    with db.session() as s:
        repo.start_call(s, "c1", "A-1", source_protocol="ws-ingest", debtor_phone=PHONE)
    started = None if missing_time else datetime.now(UTC)
    with pytest.raises(IntegrityError) as err, db.session() as s:
        s.add(Call(id="c1", agent_id="A-1", debtor_phone=PHONE, source_protocol="x", started_at=started))
        s.flush()
    assert PHONE not in str(err.value)
    assert "Failing row" not in str(err.value)
