"""Hostile requests to the QA API on both databases: a U+0000 (NUL) in a call id, a queue filter
or a review's text is a 422 on SQLite and PostgreSQL (PostgreSQL cannot hold it: a 500 there); so
is an integer of more than 4300 digits in a body (a 400 "error parsing the body" without a reason),
a form title of more than 200 characters (it was cut to 200 and saved) and a verdict keyed by an
alert id not written in plain decimal digits (``"1.0"``, ``"+1"``, ``"01"``: read as alert 1)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.scorecard import DEFAULT_FORM
from agent_monitor.settings import Settings
from agent_monitor.storage import WarningLevel
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.ui_support import add_call, login

NUL_REQUESTS = [
    ("GET", "/api/qa/queue?call=%00", None),
    ("GET", "/api/qa/queue?agent=a%00b", None),
    ("GET", "/api/qa/queue?team=%00", None),
    ("GET", "/api/qa/queue?rule=%00", None),
    ("GET", "/api/qa/next?after=%00", None),
    ("POST", "/api/qa/claim?after=%00", None),
    ("POST", "/api/qa/calls/%00/assign", {}),
    ("POST", "/api/qa/calls/q%00/review", {}),
    ("POST", "/api/qa/calls/q-1/assign", {"reviewer": "qa1\x00"}),
    ("POST", "/api/qa/calls/q-1/review", {"notes": "a\x00b"}),
    ("GET", "/api/calls/%00", None),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nul_in_a_request_is_refused_on_both_databases(
    backend: str, base_settings: Settings, tmp_path: Path
) -> None:
    with ui_server_on(backend, base_settings, tmp_path) as (url, _app), httpx.Client(base_url=url) as c:
        csrf = login(c, "admin1")
        for method, path, body in NUL_REQUESTS:
            r = c.request(method, path, json=body, headers=csrf)
            assert r.status_code == 422 and "U+0000" in r.text, (method, path, r.status_code, r.text)
        assert c.get("/api/qa/queue?call=q").status_code == 200  # nothing else is refused
        huge = '{"scorecard": {"identification": ' + "7" * 5000 + "}}"
        headers = {**csrf, "content-type": "application/json"}
        r = c.post("/api/qa/calls/q-1/review", content=huge, headers=headers)
        assert r.status_code == 422 and "more than 4300 digits" in r.text, (r.status_code, r.text)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_form_title_over_200_characters_is_refused_not_cut(
    backend: str, base_settings: Settings, tmp_path: Path
) -> None:
    with ui_server_on(backend, base_settings, tmp_path) as (url, _app), httpx.Client(base_url=url) as c:
        csrf = login(c, "admin1")
        long = {**DEFAULT_FORM, "name": "long-title", "title": "T" * 150 + " " + "x" * 50}
        r = c.post("/api/qa/forms", json=long, headers=csrf)
        assert r.status_code == 422, (r.status_code, r.text)
        assert r.json() == {
            "detail": "form 'long-title': 'title' has 201 characters, at most 200 are allowed"
        }
        assert [f["name"] for f in c.get("/api/qa/forms").json()["forms"]] == ["default"]  # nothing saved
        longest = {**long, "title": "  " + "T" * 200 + "  "}  # 200 once the spaces around are dropped
        r = c.post("/api/qa/forms", json=longest, headers=csrf)
        assert r.status_code == 200 and r.json()["title"] == "T" * 200, r.text
        assert c.get("/api/qa/forms/current").json()["title"] == "T" * 200


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_verdict_key_must_be_an_alert_id_in_plain_decimal_digits(
    backend: str, base_settings: Settings, tmp_path: Path, real_call: CallAudio
) -> None:
    with ui_server_on(backend, base_settings, tmp_path) as (url, app), httpx.Client(base_url=url) as c:
        services, audio = app.state.services, real_call.excerpt(0, 12)
        add_call(services.db, services.settings.data_dir, "q-1", "A-1", audio, WarningLevel.RED)
        csrf = login(c, "qa1")
        alert = str(c.get("/api/calls/q-1").json()["alerts"][0]["alert_id"])
        for key in (f"{alert}.0", f" {alert}", f"{alert} ", f"+{alert}", f"0{alert}", f"{alert}e0",
                    f"{alert}_0", alert.translate(ARABIC_INDIC), "0", "-1"):  # fmt: skip
            r = c.post("/api/qa/calls/q-1/review", json={"verdicts": {key: "confirmed"}}, headers=csrf)
            assert r.status_code == 422, (key, r.status_code, r.text)
            [problem] = r.json()["detail"]
            assert problem["loc"] == ["body", "verdicts", key, "[key]"], (key, problem)
            assert f"key {key!r} is not an id" in problem["msg"], (key, problem)
        assert c.get("/api/calls/q-1").json()["reviews"] == []  # none of them was stored
        r = c.post("/api/qa/calls/q-1/review", json={"verdicts": {alert: "confirmed"}}, headers=csrf)
        assert r.status_code == 200 and r.json()["verdicts"] == {alert: "confirmed"}, r.text
        assert c.get("/api/calls/q-1").json()["reviews"][0]["verdicts"] == {alert: "confirmed"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_verdicts_for_many_unknown_alerts_are_refused_in_one_line(
    backend: str, base_settings: Settings, tmp_path: Path, real_call: CallAudio
) -> None:
    """Every unknown alert id was listed: 45,000 verdict keys (within the body limit) gave a
    300 KB "detail"; now the first ten and how many in all."""
    with ui_server_on(backend, base_settings, tmp_path) as (url, app), httpx.Client(base_url=url) as c:
        services, audio = app.state.services, real_call.excerpt(0, 12)
        add_call(services.db, services.settings.data_dir, "q-1", "A-1", audio, WarningLevel.RED)
        csrf = login(c, "qa1")
        verdicts = {str(n): "confirmed" for n in range(100_001, 120_001)}
        r = c.post("/api/qa/calls/q-1/review", json={"verdicts": verdicts}, headers=csrf)
        assert r.status_code == 422, r.text[:300]
        shown = ", ".join(str(n) for n in range(100_001, 100_011))
        assert r.json() == {"detail": f"alerts [{shown}, ... (20000 in all)] are not alerts of call 'q-1'"}
        r = c.post("/api/qa/calls/q-1/review", json={"verdicts": {"999999": "confirmed"}}, headers=csrf)
        assert r.json() == {"detail": "alerts [999999] are not alerts of call 'q-1'"}, r.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_json_body_in_another_encoding_is_refused_not_read_unchecked(
    backend: str, base_settings: Settings, tmp_path: Path, real_call: CallAudio
) -> None:
    """The strict checks read a body as UTF-8; the route's reader also takes a UTF-8 byte order
    mark and UTF-16/32 without one, so such a body passed unchecked: review notes with a U+0000 were
    a 500 on PostgreSQL (and stored on SQLite), NaN was read as a number."""
    with ui_server_on(backend, base_settings, tmp_path) as (url, app), httpx.Client(base_url=url) as c:
        services, audio = app.state.services, real_call.excerpt(0, 12)
        add_call(services.db, services.settings.data_dir, "q-1", "A-1", audio, WarningLevel.RED)
        headers = {**login(c, "qa1"), "content-type": "application/json"}
        for encoding in ("utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le"):
            for text in ('{"notes": "a\\u0000b"}', '{"notes": "n", "scorecard": {"identification": NaN}}'):
                r = c.post("/api/qa/calls/q-1/review", content=text.encode(encoding), headers=headers)
                assert r.status_code == 422, (encoding, text, r.status_code, r.text[:200])
                assert r.json() == {"detail": "a JSON body must be UTF-8 text without a byte order mark"}
        assert c.get("/api/calls/q-1").json()["reviews"] == []  # nothing was stored
        r = c.post("/api/qa/calls/q-1/review", content=b'{"notes": "plain"}', headers=headers)
        assert r.status_code == 200, r.text  # UTF-8 as ever
        r = c.post("/api/qa/calls/q-1/review", content=b'{"notes": ', headers=headers)
        assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid", r.text
