"""Personal-data masking (web.masking): what is masked, what is kept, and the role policy."""

from __future__ import annotations

import pytest

from agent_monitor.model.roles import Role
from web.masking import MaskPolicy, classify, luhn_valid, mask_id, mask_text, mask_utterance, mask_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my number is 13812345678 ok", "my number is [PHONE ••5678] ok"),
        ("call me at (415) 555-1234.", "call me at ([PHONE ••1234]."),
        ("card 4111 1111 1111 1111 please", "card [CARD ••1111] please"),
        ("card 4111-1111-1111-1112", "card [NUMBER]"),  # fails Luhn: still masked
        ("id 11010519491231002X", "id [ID]"),
        ("身份证号110105194912310021", "身份证号[ID]"),
        ("ssn 123-45-6789", "ssn [SSN]"),
        ("my social is one two three four five six seven eight nine", "my social is [SSN]"),
        ("four one five five five five one two three four", "[PHONE ••1234]"),
        ("我的电话是幺三八一二三四五六七八", "我的电话是[PHONE ••5678]"),
        ("电话 一 三 八 一 二 三 四 五 六 七 八 谢谢", "电话 [PHONE ••5678] 谢谢"),
    ],
)
def test_personal_numbers_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "you owe 1500 dollars since 2024",
        "call back at 9 30 tomorrow",
        "one two three",
        "oh I see, one moment",
        "欠款三千五百元",
        "",
        # identifiers are not personal data: call, agent and ticket ids keep their digits
        "call demo-98628310 placed at 21:30",
        "agent A-9 on call_20240305 ticket TK-4155551234",
    ],
)
def test_short_numbers_and_plain_text_are_kept(text: str) -> None:
    assert mask_text(text) == text


def test_luhn_and_classification() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert classify("4111111111111111") == "card"
    assert classify("13812345678") == "phone"
    assert classify("123456") is None
    assert classify("11010519491231002X") == "id"


def test_word_masking_keeps_one_entry_per_word() -> None:
    digits = ["four", "one", "five", "five", "five", "five", "one", "two", "three", "four"]
    words = ["my", "number", "is", *digits, "thanks"]
    masked = mask_words(words)
    assert len(masked) == len(words)
    assert masked[:3] == ["my", "number", "is"] and masked[-1] == "thanks"
    assert masked[3] == "[PHONE ••1234]" and set(masked[4:-1]) == {"•"}


def test_utterance_masking_covers_text_and_words() -> None:
    data = {
        "text": "card 4111 1111 1111 1111",
        "words": [
            {"text": w, "start": float(i), "end": i + 0.5}
            for i, w in enumerate(["card", "4111", "1111", "1111", "1111"])
        ],
    }
    out = mask_utterance(data)
    assert out["text"] == "card [CARD ••1111]"
    assert [w["text"] for w in out["words"]] == ["card", "[CARD ••1111]", "•", "•", "•"]
    assert [w["start"] for w in out["words"]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert data["text"] == "card 4111 1111 1111 1111"  # the input is not changed


def test_policy_defaults_and_configuration() -> None:
    default = MaskPolicy()
    assert default.masks_for(Role.AGENT) and default.masks_for(Role.QA)
    assert not default.masks_for(Role.SUPERVISOR) and not default.masks_for(Role.ADMIN)
    strict = MaskPolicy.from_roles([])
    assert all(strict.masks_for(r) for r in Role)


def test_live_events_are_masked() -> None:
    from web.ui.serialize import event_masked

    transcript = {
        "type": "transcript",
        "call_id": "c",
        "text": "my phone is 13812345678",
        "words": [{"text": w, "start": 0.0, "end": 0.1} for w in ["my", "phone", "is", "13812345678"]],
    }
    out = event_masked(transcript)
    assert out["text"] == "my phone is [PHONE ••5678]" and out["words"][3]["text"] == "[PHONE ••5678]"
    warning = {"type": "agent_warning", "evidence": "card 4111 1111 1111 1111", "reason": "r"}
    assert event_masked(warning)["evidence"] == "card [CARD ••1111]"
    alert = {"type": "alert_raised", "reasons": [{"text": "said 13812345678", "kind": "rule"}]}
    assert event_masked(alert)["reasons"][0]["text"] == "said [PHONE ••5678]"
    started = {"type": "call_started", "info": {"debtor_phone": "+14155551234", "agent_id": "A"}}
    assert event_masked(started)["info"]["debtor_phone"] == "+[PHONE ••1234]"
    owed = {"type": "call_started", "info": {"debt_id": "LN-4111111111111111", "consented": False}}
    assert event_masked(owed)["info"] == {"debt_id": "LN-[CARD ••1111]", "consented": False}
    stress = {"type": "stress", "sample": {"score": 12.0}}
    assert event_masked(stress) == stress


def test_an_identifier_beside_a_number_masks_only_the_number() -> None:
    assert (
        mask_text("call demo-98628310: my phone is 4155551234")
        == "call demo-98628310: my phone is [PHONE ••1234]"
    )
    assert mask_words(["demo-98628310", "four", "one", "five", "five", "five", "five", "one", "two"]) == [
        "demo-98628310", "[PHONE ••5512]", "•", "•", "•", "•", "•", "•", "•",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("debt", "expected"),
    [
        ("4111111111111111", "[CARD ••1111]"),
        ("ACCT-4111111111111111", "ACCT-[CARD ••1111]"),
        ("acct_4155551234", "acct_[PHONE ••1234]"),
        ("LN-2024-000123", "LN-[PHONE ••0123]"),
        ("L-42", "L-42"),  # no personal number in it
        ("债务-1", "债务-1"),
    ],
)
def test_an_identifier_that_is_personal_data_has_its_number_masked(debt: str, expected: str) -> None:
    assert mask_id(debt) == expected
    assert mask_text(debt) == (debt if "-" in debt or "_" in debt else expected)  # said: an id
