"""Labelled abusive-language text sets, read from the evaluation data folder, with fixed splits.

Every set is split once, deterministically, into a ``dev`` part (training, cross-validation,
threshold choice) and a ``test`` part (reported figures only, never fitted or tuned on). The part
of a row follows from a SHA-256 hash of ``SPLIT_SEED`` and the row's stable key (the dataset's id
column; the call id for the collection dialogues, so a whole call stays on one side). Collection
calls are stratified: calls with an abusive agent turn and the other calls are each ordered by
hash and dealt alternately, so both parts hold abusive calls.

Sets (paths relative to the data folder; positives / negatives):

* ``cold`` (zh) ``text/zh/cold/cold_test_half.csv``: fine-grained 1 (attack on an individual) /
  0 (safe) and 3 (anti-bias, a hard negative); 2 (attack on a group) is left out.
* ``cold-offensive`` (zh): the same file, COLD's coarse label: an attack on an individual or a
  group (fine-grained 1, 2) / safe (0, 3). A training set only (more offensive rows than the
  individual attacks alone), never reported: its positives include the ``cold`` ones.
* ``swsr`` (zh) ``text/zh/swsr/SexComment.csv``: sexist comments aimed at an individual
  (``label`` 1, ``target`` I) / not sexist (``label`` 0); sexism aimed at groups is left out.
* ``swsr-all`` (zh): the same file, every sexist comment (at an individual or a group) / not
  sexist. A training set only.
* ``olid`` (en) ``text/en/olid/olid_test_half.csv``: targeted insult or threat at an individual
  (TIN, IND) / not offensive (NOT); other rows left out.
* ``davidson`` (en) ``text/en/davidson/labeled_data.csv``: offensive or hate (class 0, 1) /
  neither (class 2).
* ``collection`` (en) ``text/collection/prodigal``: agent turns, ``profanity_label`` 1 / 0.
  ``collection-debtor`` is the customer turns of the same calls (same split), used for training
  and for the debtor leg, never as an agent-violation figure.

The sets are evaluation data under their own licenses: read here, never copied into the project.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import DatasetError

SPLIT_SEED = "agent-monitor-abuse-split-v1"
PARTS = ("dev", "test", "all")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text: ``positive`` is abusive; ``group`` is the split key (row or call id)."""

    text: str
    positive: bool
    group: str = ""


_OLID_NOISE = re.compile(r"@user|\burl\b|#", re.IGNORECASE)
_TWEET_NOISE = re.compile(r"@\w+|https?://\S+|&amp;|&lt;|&gt;|&#\d+;|\bRT\b|#")


def clean(text: str, lang: str) -> str:
    """Drop dataset artefacts (mentions, URLs, retweet marks, hashtag signs, HTML entities)."""
    if lang == "en":
        return " ".join(_TWEET_NOISE.sub(" ", _OLID_NOISE.sub(" ", text)).split())
    return text.strip()


def _hash(key: str) -> str:
    return hashlib.sha256(f"{SPLIT_SEED}:{key}".encode()).hexdigest()


def part_of(key: str) -> str:
    """``dev`` or ``test`` for a row key (half each, by hash)."""
    return "dev" if int(_hash(key)[:8], 16) % 2 == 0 else "test"


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DatasetError(f"{path}: evaluation file not found")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc


def _column(path: Path, row: dict[str, str], name: str) -> str:
    try:
        return row[name]
    except KeyError:
        raise DatasetError(f"{path}: missing column {name!r}") from None


def _load_cold(data_dir: Path, positive: frozenset[str], negative: frozenset[str]) -> list[Example]:
    path = data_dir / "text" / "zh" / "cold" / "cold_test_half.csv"
    out = []
    for row in _read_csv(path):
        label = _column(path, row, "fine-grained-label")
        if label in positive or label in negative:
            text = clean(_column(path, row, "TEXT"), "zh")
            out.append(Example(text, label in positive, "cold:" + _column(path, row, "id")))
    return out


def load_cold(data_dir: Path) -> list[Example]:
    return _load_cold(data_dir, frozenset({"1"}), frozenset({"0", "3"}))


def load_cold_offensive(data_dir: Path) -> list[Example]:
    return _load_cold(data_dir, frozenset({"1", "2"}), frozenset({"0", "3"}))


def _load_swsr(data_dir: Path, targets: frozenset[str]) -> list[Example]:
    path = data_dir / "text" / "zh" / "swsr" / "SexComment.csv"
    out = []
    for row in _read_csv(path):
        label, target = _column(path, row, "label"), _column(path, row, "target")
        if label == "0" or (label == "1" and target in targets):
            text = clean(_column(path, row, "comment_text"), "zh")
            out.append(Example(text, label == "1", "swsr:" + _column(path, row, "index")))
    return out


def load_swsr(data_dir: Path) -> list[Example]:
    return _load_swsr(data_dir, frozenset({"I"}))


def load_swsr_all(data_dir: Path) -> list[Example]:
    return _load_swsr(data_dir, frozenset({"I", "G"}))


def load_olid(data_dir: Path) -> list[Example]:
    path = data_dir / "text" / "en" / "olid" / "olid_test_half.csv"
    out = []
    for row in _read_csv(path):
        a, b, c = (_column(path, row, k) for k in ("subtask_a", "subtask_b", "subtask_c"))
        key = "olid:" + _column(path, row, "id")
        text = clean(_column(path, row, "tweet"), "en")
        if a == "NOT":
            out.append(Example(text, False, key))
        elif b == "TIN" and c == "IND":
            out.append(Example(text, True, key))
    return out


def load_davidson(data_dir: Path) -> list[Example]:
    path = data_dir / "text" / "en" / "davidson" / "labeled_data.csv"
    out = []
    for row in _read_csv(path):
        cls = _column(path, row, "class")
        key = "davidson:" + _column(path, row, "")
        out.append(Example(clean(_column(path, row, "tweet"), "en"), cls in ("0", "1"), key))
    return out


def _collection_rows(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / "text" / "collection" / "prodigal" / "utterances_with_profanity_label.csv"
    rows = _read_csv(path)
    for name in ("call_id", "speaker", "text", "profanity_label"):
        if rows:
            _column(path, rows[0], name)
    return rows


def collection_parts(rows: list[dict[str, str]]) -> dict[str, str]:
    """Call id -> ``dev``/``test``: abusive and other calls each ordered by hash, dealt alternately."""
    abusive = {r["call_id"] for r in rows if r["speaker"] == "Agent" and r["profanity_label"] == "1"}
    calls = {r["call_id"] for r in rows}
    parts: dict[str, str] = {}
    for group in (abusive, calls - abusive):
        for i, call in enumerate(sorted(group, key=_hash)):
            parts[call] = "dev" if i % 2 == 0 else "test"
    return parts


def _collection(data_dir: Path, speaker: str) -> list[Example]:
    rows = _collection_rows(data_dir)
    return [
        Example(r["text"].strip(), r["profanity_label"] == "1", "call:" + r["call_id"])
        for r in rows
        if r["speaker"] == speaker and r["text"].strip()
    ]


def load_collection(data_dir: Path) -> list[Example]:
    return _collection(data_dir, "Agent")


def load_collection_debtor(data_dir: Path) -> list[Example]:
    return _collection(data_dir, "Customer")


@dataclass(frozen=True, slots=True)
class DataSet:
    name: str
    lang: str
    load: Callable[[Path], list[Example]]
    what: str


DATASETS: dict[str, DataSet] = {
    d.name: d
    for d in (
        DataSet("cold", "zh", load_cold, "COLD, attack on an individual vs safe"),
        DataSet("cold-offensive", "zh", load_cold_offensive, "COLD, attack on a person or group vs safe"),
        DataSet("swsr", "zh", load_swsr, "SWSR, sexism at an individual vs not sexist"),
        DataSet("swsr-all", "zh", load_swsr_all, "SWSR, sexist vs not sexist"),
        DataSet("olid", "en", load_olid, "OLID, targeted insult at an individual vs not offensive"),
        DataSet("davidson", "en", load_davidson, "Davidson, offensive or hate vs neither"),
        DataSet("collection", "en", load_collection, "collection dialogues, agent turns"),
        DataSet("collection-debtor", "en", load_collection_debtor, "collection dialogues, debtor turns"),
    )
}


def load(name: str, data_dir: Path, part: str = "all") -> list[Example]:
    """The rows of one set, or of its ``dev``/``test`` part; raises :class:`DatasetError`."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
    if part not in PARTS:
        raise DatasetError(f"unknown part {part!r} (known: {', '.join(PARTS)})")
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: evaluation data folder not found")
    rows = DATASETS[name].load(data_dir)
    if part == "all":
        return rows
    if name.startswith("collection"):
        parts = collection_parts(_collection_rows(data_dir))
        return [e for e in rows if parts[e.group.removeprefix("call:")] == part]
    return [e for e in rows if part_of(e.group) == part]


SELF_WRITTEN_DIR = Path(__file__).resolve().parents[1] / "data"


def load_self_written(lang: str) -> list[Example]:
    """The project's own training sentences (``qa_rules/data/selfwritten_LANG.tsv``), never tested on."""
    path = SELF_WRITTEN_DIR / f"selfwritten_{lang}.tsv"
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or label not in ("0", "1") or not text.strip():
            raise DatasetError(f"{path}:{n}: expected 'label<TAB>text' with label 0 or 1")
        out.append(Example(text.strip(), label == "1", f"self:{lang}:{n}"))
    return out
