"""A call's ``debt_id`` and ``consented`` through every ingest path that takes call metadata: the
``/ws/ingest`` start message (AudioSocket registrations use it too), Twilio's customParameters,
the replay/capture commands; into :class:`CallInfo` and across the event bus. Bad values are
refused with the field named (before any audio is taken)."""

from __future__ import annotations

import json

import pytest

from agent_monitor.cli import build_parser
from agent_monitor.cli.live_cmd import _call
from agent_monitor.errors import IngestProtocolError, PipelineError
from agent_monitor.ingest.twilio import TwilioConnection, TwilioOther, TwilioStart, start_message
from agent_monitor.ingest.ws_ingest import IngestConnection, StartMessage, parse_text_message, to_call_info
from agent_monitor.model.event_codec import decode_call_info
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import LiveSettings

START = {"type": "start", "call_id": "C-1", "agent_id": "A-7", "debtor_id": "D-9"}
CONNECTED = '{"event": "connected", "protocol": "Call", "version": "1.0.0"}'


def test_the_start_message_carries_the_debt_and_the_consent_into_the_call() -> None:
    msg = parse_text_message(json.dumps({**START, "debt_id": " L-42 ", "consented": True}))
    assert isinstance(msg, StartMessage) and (msg.debt_id, msg.consented) == ("L-42", True)
    info = to_call_info(msg, "ws-ingest", LiveSettings())
    assert (info.debt_id, info.consented) == ("L-42", True)
    assert decode_call_info(json.loads(json.dumps(info.to_dict()))) == info  # across the event bus
    plain = to_call_info(StartMessage.model_validate(START), "ws-ingest", LiveSettings())
    assert (plain.debt_id, plain.consented) == (None, False)
    given_null = parse_text_message(json.dumps({**START, "debt_id": None, "consented": None}))
    assert isinstance(given_null, StartMessage)
    assert to_call_info(given_null, "ws-ingest", LiveSettings()).consented is False


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"debt_id": "L\u202e42"}, "debt_id: debt_id must not contain control"),
        ({"debt_id": "x" * 65}, "debt_id: debt_id must be at most 64 characters"),
        ({"debt_id": ".."}, "debt_id: debt_id must not be '.' or '..'"),
        ({"debt_id": 42}, "debt_id: Input should be a valid string"),
        ({"consented": "yes"}, "consented: Input should be a valid boolean"),
        ({"consented": "true"}, "consented: Input should be a valid boolean"),
        ({"consented": 1}, "consented: Input should be a valid boolean"),
    ],
)
def test_a_bad_debt_or_consent_refuses_the_start_naming_the_field(
    change: dict[str, object], needle: str
) -> None:
    conn = IngestConnection()
    with pytest.raises(IngestProtocolError) as err:
        conn.on_text(json.dumps({**START, **change}))
    assert str(err.value).startswith("invalid start message: ") and needle in str(err.value)
    assert err.value.close_code == 1008
    assert conn.start is None  # nothing was started, and no audio is taken


def test_call_info_checks_the_debt_and_the_consent_itself() -> None:
    with pytest.raises(PipelineError, match="debt_id must not be empty"):
        CallInfo(call_id="C-1", agent_id="A-7", debt_id="")
    with pytest.raises(PipelineError, match="consented must be true or false, not 'yes'"):
        CallInfo(call_id="C-1", agent_id="A-7", consented="yes")  # type: ignore[arg-type]


def twilio_start(params: dict[str, str]) -> TwilioConnection:
    conn = TwilioConnection()
    assert isinstance(conn.on_text(CONNECTED), TwilioOther)
    conn.on_text(json.dumps(start_message("MZ1", "CA1", params)))
    return conn


@pytest.mark.parametrize(
    ("written", "consented"), [("true", True), ("false", False), ("True", True), ("FALSE", False)]
)
def test_twilio_custom_parameters_carry_the_debt_and_the_consent(written: str, consented: bool) -> None:
    conn = twilio_start({"agent_id": "A-7", "debtor_id": "D-9", "debt_id": "L-42", "consented": written})
    assert isinstance(conn.start, TwilioStart)
    info = to_call_info(conn.start.call, "twilio", LiveSettings())
    assert (info.debt_id, info.consented) == ("L-42", consented)


@pytest.mark.parametrize(("written", "lang"), [("EN", "en"), ("Zh", "zh"), ("en", "en")])
def test_twilio_lang_is_read_in_any_case(written: str, lang: str) -> None:
    """A TwiML parameter is a string a template may capitalise: the stream is not closed for it."""
    conn = twilio_start({"agent_id": "A-7", "lang": written})
    assert isinstance(conn.start, TwilioStart)
    assert to_call_info(conn.start.call, "twilio", LiveSettings()).lang == lang


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"consented": "yes"}, "customParameters: consented must be 'true' or 'false'"),
        ({"consented": "Truth"}, "customParameters: consented must be 'true' or 'false'"),
        ({"consented": "1"}, "customParameters: consented must be 'true' or 'false'"),
        ({"debt_id": "L\n42"}, "customParameters: debt_id: debt_id must not contain control"),
    ],
)
def test_twilio_refuses_a_bad_debt_or_consent_naming_it(params: dict[str, str], needle: str) -> None:
    with pytest.raises(IngestProtocolError) as err:
        twilio_start({"agent_id": "A-7", **params})
    assert needle in str(err.value) and err.value.close_code == 1008


def test_the_replay_and_capture_commands_send_the_debt_and_the_consent() -> None:
    parser = build_parser()
    for command in ("replay", "capture"):
        base = [command, "--server", "http://127.0.0.1:1", *(["call.wav"] if command == "replay" else [])]
        plain = _call(parser.parse_args(base), command)
        assert "debt_id" not in plain and "consented" not in plain
        args = parser.parse_args([*base, "--debtor-id", "D-9", "--debt-id", "L-42", "--consented"])
        call = _call(args, command)
        assert (call["debt_id"], call["consented"]) == ("L-42", True)
        msg = StartMessage.model_validate({**call, "type": "start"})  # what the server reads
        assert (msg.debt_id, msg.consented) == ("L-42", True)
