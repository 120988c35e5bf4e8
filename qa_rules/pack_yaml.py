"""Reading a rule pack file's YAML into plain data, strictly: a key given twice in one mapping (two
``rules:``, a rule's ``patterns:`` twice, two lists of one name) is refused, where YAML itself keeps
the last one and an admin would lose the first without a word. A value YAML's own constructors
fail on with a Python error (a date ``2026-02-30``, an integer of more than 4300 digits, ``!!int
abc``) is an error of the pack too, with its line (it was a 500 on the admin's rule pack routes and a
traceback from ``rules lint``). Every problem is a :class:`~agent_monitor.errors.RulePackError`
naming the file (and the line, the rule and the key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agent_monitor.errors import RulePackError

_MERGE = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """The safe loader, a value its constructors cannot build a YAML error with its line."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise ConstructorError(None, None, _unbuilt(node, exc), node.start_mark) from exc


def _unbuilt(node: Node, exc: Exception) -> str:
    """Why the value of ``node`` could not be built, in words (not the constructor's internals)."""
    shown = node.value if isinstance(node, ScalarNode) else node.tag
    shown = shown if len(shown) <= 40 else shown[:40] + "..."
    kind = node.tag.rsplit(":", 1)[-1]
    problem = f"{shown!r} is not a valid {kind}"
    reason = str(exc) if isinstance(exc, ValueError) else ""
    if "integer string conversion" in reason:
        return f"{problem} (more than 4300 digits)"
    if kind == "timestamp" and reason:  # what is wrong with the date: "month must be in 1..12"
        return f"{problem} ({reason})"
    return problem


def read_pack_yaml(path: Path) -> Any:
    """The YAML document of ``path`` as plain data (``None`` when it is empty)."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulePackError(src, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RulePackError(src, "not UTF-8 text") from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_duplicate_keys(node, src)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RulePackError(src, f"invalid YAML{where}: {problem}") from exc
    except RecursionError:
        raise RulePackError(src, "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def _refuse_duplicate_keys(root: Node, src: str) -> None:
    """Walk the document (each node once: aliases may share them, no recursion) and refuse the
    first mapping key given twice, naming its line, the rule it is in and its path in the pack."""
    seen: set[int] = set()
    todo: list[tuple[Node, str | None, str]] = [(root, None, "")]
    while todo:
        node, rule, path = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            for index, item in reversed(list(enumerate(node.value))):  # popped in document order
                if path == "rules" and rule is None and isinstance(item, MappingNode):
                    todo.append((item, _rule_label(item, index), ""))
                else:
                    todo.append((item, rule, path))
        elif isinstance(node, MappingNode):
            _check_mapping(node, src, rule, path)
            todo.extend((value, rule, _joined(path, key)) for key, value in reversed(node.value))


def _check_mapping(node: MappingNode, src: str, rule: str | None, path: str) -> None:
    first: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == _MERGE:
            continue  # keys of a merged mapping (<<) may be overridden on purpose
        line = key.start_mark.line + 1
        earlier = first.get((key.tag, key.value))
        if earlier is not None:
            lines = f"line {line}" if earlier == line else f"lines {earlier} and {line}"
            raise RulePackError(
                src,
                f"key given twice ({lines}): YAML would keep only the last one",
                rule=rule,
                field=_joined(path, key),
            )
        first[key.tag, key.value] = line


def _joined(path: str, key: Node) -> str:
    name = key.value if isinstance(key, ScalarNode) else "?"
    return f"{path}.{name}" if path else name


def _rule_label(node: MappingNode, index: int) -> str:
    """How errors name the rule at ``index``: its id, or its place (``#3``) without one."""
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
            return value.value or f"#{index + 1}"
    return f"#{index + 1}"
