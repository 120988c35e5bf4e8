"""A scorecard form's title as :meth:`ScorecardForm.parse` reads it: at most 200 characters (the
``qa_forms.title`` column), refused beyond that (it used to be cut to 200 without a word)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.scorecard import MAX_TITLE_CHARS, ScorecardForm

ITEMS = [{"key": "greeting", "en": "Greeting"}]


def form(**fields: Any) -> dict[str, Any]:
    return {"name": "calls", "items": ITEMS, **fields}


def test_a_title_of_more_than_200_characters_is_refused_not_cut() -> None:
    assert MAX_TITLE_CHARS == 200
    with pytest.raises(InvalidRecordError) as refused:
        ScorecardForm.parse(form(title="é" * 201))
    assert str(refused.value) == "form 'calls': 'title' has 201 characters, at most 200 are allowed"
    with pytest.raises(InvalidRecordError, match="has 5000 characters, at most 200"):
        ScorecardForm.parse(form(title="x" * 5000))


def test_a_title_of_200_characters_is_kept_whole() -> None:
    assert ScorecardForm.parse(form(title="é" * 200)).title == "é" * 200
    # the spaces around it are dropped before counting, as they always were
    assert ScorecardForm.parse(form(title=" \t" + "x" * 200 + "\n ")).title == "x" * 200


@pytest.mark.parametrize("title", [None, "", "   "])
def test_a_form_without_a_title_is_titled_by_its_name(title: str | None) -> None:
    assert ScorecardForm.parse(form(title=title)).title == "calls"
    assert ScorecardForm.parse({"name": "calls", "items": ITEMS}).title == "calls"


@pytest.mark.parametrize("title", [0, False, [], 12, ["x"]])
def test_a_title_that_is_not_text_is_refused(title: object) -> None:
    with pytest.raises(InvalidRecordError, match="'title' must be text"):
        ScorecardForm.parse(form(title=title))
