"""A small rule pack for the admin tests (lint, try, upload, switch): one yellow rule that hears
"banana" in the agent's words, with the examples a pack must carry."""

from __future__ import annotations


def banana_pack(name: str, rule_id: str, version: str = "1.0.0") -> str:
    """The pack's YAML: pack ``name`` at ``version``, its one rule ``rule_id``."""
    return f"""pack: {name}
version: {version}
rules:
  - id: {rule_id}
    title: Says banana
    category: profanity
    severity: yellow
    languages: [en]
    leg: agent
    patterns: ["banana"]
    citation: test
    compliant: say something else
    examples:
      positive: ["a banana for you"]
      negative: ["an apple for you"]
"""
