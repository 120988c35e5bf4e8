"""The heap's start-up environment: which allocator is preloaded and how huge pages are asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.allocator import JEMALLOC_THP, TUNABLE, chosen, find_jemalloc, heap_environment, thp_mode
from agent_monitor.errors import ConfigError

JE = "libjemalloc.so.2"


def test_the_thp_mode_is_the_bracketed_word(tmp_path: Path) -> None:
    mode = tmp_path / "enabled"
    mode.write_text("always [madvise] never\n")
    assert thp_mode(mode) == "madvise"
    mode.write_text("always madvise [never]\n")
    assert thp_mode(mode) == "never"
    assert thp_mode(tmp_path / "absent") is None


def test_jemalloc_is_installed_by_setup_and_auto_chooses_it() -> None:
    """scripts/setup.sh installs Debian's libjemalloc2: ``auto`` then preloads it."""
    found = find_jemalloc()
    assert found is not None and "jemalloc" in found
    assert chosen("auto", found) == found
    assert chosen("jemalloc", found) == found
    assert chosen("glibc", found) is None


def test_auto_falls_back_to_glibc_and_a_required_jemalloc_is_a_clear_error() -> None:
    assert chosen("auto", None) is None
    with pytest.raises(ConfigError, match="libjemalloc2"):
        chosen("jemalloc", None)


def test_jemalloc_is_preloaded_with_its_own_huge_page_option() -> None:
    env = heap_environment({"PATH": "/bin"}, JE, huge_pages=True, thp="madvise")
    assert env == {"PATH": "/bin", "LD_PRELOAD": JE, "MALLOC_CONF": JEMALLOC_THP}
    env = heap_environment({"LD_PRELOAD": "libfoo.so", "MALLOC_CONF": "narenas:4"}, JE, True, "always")
    assert env["LD_PRELOAD"] == f"libfoo.so:{JE}"
    assert env["MALLOC_CONF"] == f"narenas:4,{JEMALLOC_THP}"
    assert "GLIBC_TUNABLES" not in env


def test_an_operators_own_settings_are_kept() -> None:
    env = heap_environment({"MALLOC_CONF": "thp:never", "LD_PRELOAD": f"libfoo.so {JE}"}, JE, True, "madvise")
    assert env["MALLOC_CONF"] == "thp:never"
    assert env["LD_PRELOAD"] == f"libfoo.so {JE}"


def test_glibc_gets_the_tunable_added_to_tunables_already_set() -> None:
    env = heap_environment({"PATH": "/bin"}, None, True, "madvise")
    assert env == {"PATH": "/bin", "GLIBC_TUNABLES": TUNABLE}
    env = heap_environment({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, None, True, "always")
    assert env["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{TUNABLE}"


def test_no_huge_pages_where_the_kernel_has_none_or_they_are_off() -> None:
    assert heap_environment({}, JE, True, "never") == {"LD_PRELOAD": JE}
    assert heap_environment({}, JE, False, "madvise") == {"LD_PRELOAD": JE}
    assert heap_environment({}, None, True, None) == {}


def test_a_process_that_has_everything_set_is_not_started_again() -> None:
    """``restart_with_heap`` restarts only when the environment would change."""
    once = heap_environment({"PATH": "/bin"}, JE, True, "madvise")
    assert heap_environment(once, JE, True, "madvise") == once
    glibc = heap_environment({}, None, True, "madvise")
    assert heap_environment(glibc, None, True, "madvise") == glibc
