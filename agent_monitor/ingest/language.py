"""A call's language (which speech model and rule pack it gets), from its start and the settings.

Precedence: the language the start message names (``lang``: ``/ws/ingest``, a Twilio stream's
custom parameter, an AudioSocket registration), else the agent's (``live.lang_by_agent``), else
the queue's (``live.lang_by_queue``, by the start message's ``queue``), else ``live.default_lang``.
"""

from __future__ import annotations

from agent_monitor.settings import LiveSettings


def call_language(live: LiveSettings, requested: str | None, agent_id: str, queue: str | None) -> str:
    """The call's language (see the module documentation)."""
    if requested:
        return requested
    if agent_id in live.lang_by_agent:
        return live.lang_by_agent[agent_id]
    if queue is not None and queue in live.lang_by_queue:
        return live.lang_by_queue[queue]
    return live.default_lang
