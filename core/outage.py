"""A database outage answers with a clean 503 page, never a traceback.

When PostgreSQL stops answering, the first query of a request raises
`OperationalError` (or `InterfaceError` on a connection that died). That can
happen in a view, in a middleware (the session, the signed-in user) or in a
context processor while the error page itself renders. This middleware sits
near the top of the stack and turns all of them into `templates/503.html`,
rendered WITHOUT a request context (no context processor may query the
database). `/healthz` answers JSON naming the database instead.

Exceptions raised below a middleware are turned into 500 responses by Django
before they reach us, so a `got_request_exception` receiver marks the request
when the exception was a database error; we then swap that 500 for the 503.
"""

from __future__ import annotations

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = "30"


def _mark_database_outage(sender, request=None, **kwargs) -> None:
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, DATABASE_ERRORS):
        request._database_outage = error.__class__.__name__


def database_outage_response(request, error_name: str = "OperationalError") -> HttpResponse:
    if request.path.rstrip("/") == "/healthz":
        response = JsonResponse(
            {"status": "failing: database", "database": f"database unreachable: {error_name}"}, status=503
        )
    else:
        response = HttpResponse(get_template("503.html").render(), status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = RETRY_AFTER_SECONDS
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark_database_outage, weak=False, dispatch_uid="plnorg-database-outage")

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except DATABASE_ERRORS as exc:
            log.warning("database unavailable: %s", exc.__class__.__name__)
            return database_outage_response(request, exc.__class__.__name__)
        outage = getattr(request, "_database_outage", None)
        if outage and response.status_code >= 500:
            return database_outage_response(request, outage)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            log.warning("database unavailable: %s", exception.__class__.__name__)
            return database_outage_response(request, exception.__class__.__name__)
        return None
