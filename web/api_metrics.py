"""``GET /metrics``: the application's Prometheus metrics (:mod:`web.metrics`) in the text format.

Access: with ``web.metrics_token`` set, a scraper presents ``Authorization: Bearer <token>`` (else
401); unset, only clients on the loopback interface may scrape (else 403). Behind a reverse proxy on
the same host, set the token (or list the proxy in ``web.trusted_proxies`` so the client address is
the real one).
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request

from agent_monitor.errors import NotSignedInError, PermissionDeniedError
from agent_monitor.settings import Settings
from web.services import services_of


def check_scraper(request: Request, settings: Settings) -> None:
    """Who may scrape (see the module documentation); raises the error the handler maps to HTTP."""
    token = settings.web.metrics_token
    if token is None:
        host = request.client.host if request.client is not None else ""
        if not is_loopback(host):
            raise PermissionDeniedError("/metrics: only loopback clients while web.metrics_token is unset")
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode("utf-8")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode("utf-8"), expected):
        raise NotSignedInError("/metrics needs the metrics token", scheme="Bearer")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    services = services_of(request)
    check_scraper(request, services.settings)
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
