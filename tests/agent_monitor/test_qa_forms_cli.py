"""``agent-monitor qa forms list|show|import`` as an operator runs them (a real process, a real
SQLite database under a temporary data directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FORM_YAML = """\
name: collections-2027
title: Collections call 2027
items:
  - {key: greeting, en: Greeting and identification, zh: 问候与身份说明}
  - {key: mini_miranda, en: Mini-Miranda disclosure, weight: 3, comment_on_fail: true}
  - {key: payment_plan, en: Offered a payment plan, max: 1, na_allowed: true}
"""


def qa(
    data: Path, *args: str, command: tuple[str, ...] = ("qa", "forms")
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "agent_monitor", *command, *args]
    return subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def new_database(tmp_path: Path) -> Path:
    """A data directory with a migrated database (`qa forms list` makes none: it only lists)."""
    data = tmp_path / "data"
    made = qa(data, "upgrade", command=("db",))
    assert made.returncode == 0, made.stderr
    return data


def test_forms_list_show_and_import_new_versions(tmp_path: Path) -> None:
    data = new_database(tmp_path)
    listed = qa(data, "list")
    assert listed.returncode == 0, listed.stderr
    assert "no form saved yet" in listed.stdout and "`default`" in listed.stdout  # nothing seeded
    form_file = tmp_path / "form.yaml"
    form_file.write_text(FORM_YAML, "utf-8")
    first = qa(data, "import", str(form_file))
    assert first.returncode == 0, first.stderr
    assert "form 'collections-2027' version 1" in first.stdout
    again = qa(data, "import", str(form_file))  # unchanged: no new version
    assert "version 1" in again.stdout
    edited = json.loads(qa(data, "show").stdout)
    assert edited["name"] == "collections-2027" and edited["items"][1]["weight"] == 3.0
    edited["items"].append({"key": "closing", "en": "Proper closing"})
    json_file = tmp_path / "form.json"
    json_file.write_text(json.dumps(edited), "utf-8")
    second = qa(data, "import", str(json_file))
    assert second.returncode == 0 and "version 2" in second.stdout, second.stderr
    lines = qa(data, "list").stdout.splitlines()
    assert [ln.split()[1:3] for ln in lines[1:]] == [["collections-2027", "1"], ["collections-2027", "2"]]
    assert lines[2].endswith("(current)")

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nitems:\n  - {key: a, en: A, weight: -1}\n", "utf-8")
    refused = qa(data, "import", str(bad))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert (
        refused.stderr.strip()
        == f"agent-monitor: error: {bad}: form item 'a': weight must be a number in (0, 100]"
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    assert "not valid JSON" in qa(data, "import", str(broken)).stderr


def test_a_form_file_with_a_title_over_200_characters_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    data = new_database(tmp_path)
    form_file = tmp_path / "long.yaml"
    form_file.write_text(FORM_YAML.replace("Collections call 2027", "C" * 201), "utf-8")
    refused = qa(data, "import", str(form_file))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        f"agent-monitor: error: {form_file}: form 'collections-2027': 'title' has 201 characters,"
        " at most 200 are allowed"
    )
    listed = qa(data, "list")
    assert listed.returncode == 0 and "collections-2027" not in listed.stdout, listed.stdout
