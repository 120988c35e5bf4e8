"""``qa forms list`` and ``qa forms show`` only read (as ``db status`` and ``users list``, commit
af409f9): on a new database they stored the default form (version 1 of ``default``, by ``system``)
as a side effect of listing it, on SQLite and PostgreSQL. Now they store nothing and say that no
form is saved yet; the default form is still seeded where a review needs it (``current_form``: a
review saved, the review pages' scorecard)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_monitor.cli import main
from agent_monitor.storage import Database, repo
from agent_monitor.storage.tables import QaForm
from tests.agent_monitor.storage.conftest import BACKENDS
from tests.web.backend_support import backend_database


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A new migrated database (``db upgrade``) that the commands use, on each backend."""
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENT_MONITOR_CONFIG", "")
    with backend_database(str(request.param), "the qa forms listing tests") as url:
        if url is None:
            monkeypatch.delenv("AGENT_MONITOR_DATABASE_URL", raising=False)
            url = f"sqlite:///{tmp_path / 'data' / 'agent-monitor.db'}"
        else:
            monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", url)
        assert main(["db", "upgrade"]) == 0
        yield url


def _forms(url: str) -> int:
    db = Database.open(url)
    try:
        with db.session() as s:
            return int(s.scalar(select(func.count()).select_from(QaForm)) or 0)
    finally:
        db.dispose()


def test_listing_and_showing_the_forms_store_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["qa", "forms", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("no form saved yet: reviews are scored on the built-in form `default`"), listed
    assert _forms(database_url) == 0, "a listing stored the default form"
    assert main(["qa", "forms", "show"]) == 0
    shown = capsys.readouterr()
    form = json.loads(shown.out)
    assert (form["name"], form["version"]) == ("default", None) and form["items"], form
    assert "no form saved yet" in shown.err
    assert main(["qa", "forms", "show", "1"]) == 1
    assert "no scorecard form version 1" in capsys.readouterr().err
    assert _forms(database_url) == 0, "showing a form stored the default form"
    # where a review needs the form, it is seeded, once: the one `show` printed
    db = Database.open(database_url)
    try:
        with db.session() as s:
            assert repo.latest_form(s) is None and repo.list_forms(s) == []
            seeded = repo.current_form(s)
            assert (seeded.name, seeded.version, list(seeded.items)) == ("default", 1, form["items"])
    finally:
        db.dispose()
    assert main(["qa", "forms", "list"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2 and rows[1].split()[1:3] == ["default", "1"] and rows[1].endswith("(current)")
    assert _forms(database_url) == 1
