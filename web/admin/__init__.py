"""Administration and reports beyond the user API of :mod:`web.auth.admin`: teams, ending a
user's sessions, the audit-log viewer, trying rule packs on text, uploading and switching packs
(:mod:`web.admin.teams`, :mod:`web.admin.sessions`, :mod:`web.admin.audit_log`,
:mod:`web.admin.packs`, :mod:`web.admin.rule_packs`) and the management reports (:mod:`web.admin.reports`)."""

from __future__ import annotations

from fastapi import FastAPI


def install_admin(app: FastAPI) -> None:
    """Add the routers of the administration and report pages to ``app``."""
    from web.admin import audit_log, packs, reports, rule_packs, sessions, teams

    for module in (teams, sessions, packs, rule_packs, audit_log, reports):
        app.include_router(module.router)
