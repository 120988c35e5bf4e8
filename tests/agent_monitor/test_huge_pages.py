"""The huge-page tunable: parsing the kernel's THP mode and adding the tunable to the environment."""

from __future__ import annotations

from pathlib import Path

from agent_monitor.huge_pages import TUNABLE, thp_mode, wanted, with_tunable


def test_the_thp_mode_is_the_bracketed_word(tmp_path: Path) -> None:
    mode = tmp_path / "enabled"
    mode.write_text("always [madvise] never\n")
    assert thp_mode(mode) == "madvise"
    mode.write_text("always madvise [never]\n")
    assert thp_mode(mode) == "never"
    assert thp_mode(tmp_path / "absent") is None


def test_the_tunable_is_added_to_tunables_already_set() -> None:
    assert with_tunable({"PATH": "/bin"}) == {"PATH": "/bin", "GLIBC_TUNABLES": TUNABLE}
    env = with_tunable({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})
    assert env["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{TUNABLE}"


def test_a_process_that_has_the_tunable_is_not_started_again() -> None:
    assert not wanted({"GLIBC_TUNABLES": f"glibc.malloc.arena_max=2:{TUNABLE}"})
