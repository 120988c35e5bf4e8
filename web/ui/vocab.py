"""The vocabulary the pages share with the server, served to them instead of copied into the scripts.

Every page carries it as JSON (``<script id="am-vocab" type="application/json">``, read by
``common.js`` into ``AM.vocab``):

- ``levels``: the warning levels in increasing order (:class:`WarningLevel`), ``level_rank`` their
  rank, ``no_level`` the one that is not a warning (``none``), ``warning_levels`` the others in
  increasing order, ``level_colours`` the colour of each (also set as the CSS variables
  ``--<level>`` the style sheet uses);
- ``roles``: :class:`Role` member name -> value, ``role_pages``: the pages each role's top bar
  links to;
- ``legs``: :class:`Leg` member name -> value.
"""

from __future__ import annotations

import json
from typing import Any

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role

#: the colour of each level on the pages (badges, tiles, alert borders, timeline markers)
LEVEL_COLOURS: dict[WarningLevel, str] = {
    WarningLevel.NONE: "#5f6b7a",
    WarningLevel.YELLOW: "#e3b400",
    WarningLevel.ORANGE: "#ef7d1a",
    WarningLevel.RED: "#d92d20",
}

#: the pages (``/<page>``) in each role's top bar
ROLE_PAGES: dict[Role, tuple[str, ...]] = {
    Role.AGENT: ("agent",),
    Role.SUPERVISOR: ("supervisor", "reports"),
    Role.QA: ("qa", "reports"),
    Role.ADMIN: ("supervisor", "qa", "reports", "admin"),
}
#: the page a user of each role lands on after signing in
ROLE_HOME: dict[Role, str] = {
    Role.AGENT: "agent",
    Role.SUPERVISOR: "supervisor",
    Role.QA: "qa",
    Role.ADMIN: "admin",
}


def vocabulary() -> dict[str, Any]:
    """The vocabulary as plain JSON-ready data (see the module documentation)."""
    return {
        "levels": [lv.value for lv in WarningLevel],
        "level_rank": {lv.value: lv.rank for lv in WarningLevel},
        "no_level": WarningLevel.NONE.value,
        "warning_levels": [lv.value for lv in WarningLevel.warnings()],
        "level_colours": {lv.value: LEVEL_COLOURS[lv] for lv in WarningLevel},
        "roles": {r.name: r.value for r in Role},
        "role_pages": {r.value: list(ROLE_PAGES[r]) for r in Role},
        "legs": {leg.name: leg.value for leg in Leg},
    }


def home_page(role: Role) -> str:
    """The path a user of ``role`` lands on after signing in."""
    return "/" + ROLE_HOME[role]


def vocabulary_script() -> str:
    """The ``<script type="application/json">`` element carrying :func:`vocabulary` in a page."""
    text = json.dumps(vocabulary(), ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    return f'<script id="am-vocab" type="application/json">{text}</script>'
