"""Reading a rule pack file's YAML into plain data, strictly: a key given twice in one mapping (two
``rules:``, a rule's ``patterns:`` twice, two lists of one name) is refused, where YAML itself keeps
the last one and an admin would lose the first without a word. Every problem is a
:class:`~agent_monitor.errors.RulePackError` naming the file (and the line, the rule and the key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agent_monitor.errors import RulePackError

_MERGE = "tag:yaml.org,2002:merge"


def read_pack_yaml(path: Path) -> Any:
    """The YAML document of ``path`` as plain data (``None`` when it is empty)."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulePackError(src, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RulePackError(src, "not UTF-8 text") from exc
    loader = yaml.SafeLoader(text)
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
