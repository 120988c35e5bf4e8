"""The interface language from ``Accept-Language`` (RFC 9110 12.5.4): the language weighted highest,
``q=0`` "not acceptable", an entry with an invalid weight ignored, nothing raised.

Before, the weights were not read at all: the first of English / Chinese listed won, so
``zh;q=0, en`` (Chinese not acceptable) and ``zh;q=abc, en`` showed Chinese, and ``en;q=0.1, zh``
(Chinese preferred) English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from agent_monitor.settings import Settings
from tests.web.auth_support import app_settings, running
from web.language import accept_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),  # what a Chinese Chromium sends
        ("en-US,en;q=0.9", "en"),
        ("en;q=0.1, zh", "zh"),  # the higher weight wins, not the first listed
        ("en;q=0.5, zh-CN;q=0.5", "en"),  # of equal weights the first listed
        ("zh-Hant-TW;Q=0.5, en;q=0.4", "zh"),  # the parameter name in any case
        ("zh; q=0.8 , en ;q=0.9", "en"),  # spaces around ';'
        ("zh;q=0, en;q=0.5", "en"),  # q=0: not acceptable
        ("zh;q=0.000, fr", None),
        ("en;q=0", None),
        ("fr, *;q=0.5, en;q=0", "zh"),  # '*' stands for the languages not named
        ("*", "en"),
        ("zh;q=1.000", "zh"),
        ("zha, en;q=0.2", "en"),  # Zhuang is not Chinese
        (None, None),
        ("", None),
        (";;, ,", None),
    ],
)
def test_the_highest_weighted_language_is_chosen(header: str | None, expected: str | None) -> None:
    assert accept_language(header) == expected


@pytest.mark.parametrize(
    "weight", ["-1", "2", "abc", "nan", "inf", "1.0001", "0.1234", "", "1e0", "0x1", "٠"]
)
def test_an_entry_with_an_invalid_weight_is_ignored(weight: str) -> None:
    assert accept_language(f"zh;q={weight}, en;q=0.3") == "en"
    assert accept_language(f"zh;q={weight}") is None
    assert accept_language(f"zh;q={weight};q=1, en;q=0.3") == "en"  # and with two weights


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[TestClient]:
    with running(app_settings(base_settings, tmp_path_factory.mktemp("lang") / "data")) as c:
        yield c


@pytest.mark.parametrize(
    ("header", "title"),
    [
        ("zh;q=0, en", "Agent Monitor: sign in"),
        ("zh;q=abc, en", "Agent Monitor: sign in"),
        ("zh;q=nan", "Agent Monitor: sign in"),
        ("en;q=0.1, zh", "Agent Monitor：登录"),
    ],
)
def test_the_sign_in_page_follows_the_weights(client: TestClient, header: str, title: str) -> None:
    page = client.get("/login", headers={"Accept-Language": header})
    assert page.status_code == 200 and f"<title>{title}</title>" in page.text, page.text[:300]
