"""Structured logs with a request id that follows the work into Celery tasks,
and the request-latency histogram.

Every log line is one JSON object with `request_id` when one is known. The id
comes from the proxy's `X-Request-ID` header when it looks sane, else a fresh
one; it is echoed in the response and sent along with every task queued while
handling the request, so a fetch or an email can be traced to its click.
Each request's time is observed in `REQUEST_LATENCY`, which plnorg.metrics
serves at /metrics.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

from prometheus_client import Histogram

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

REQUEST_LATENCY = Histogram(
    "plnorg_request_duration_seconds",
    "Time to answer a request, by route and status class.",
    ["route", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def observe_request(request, response, seconds: float) -> None:
    match = getattr(request, "resolver_match", None)
    route = match.view_name if match else "unresolved"
    REQUEST_LATENCY.labels(route=route, status=f"{response.status_code // 100}xx").observe(seconds)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset on the way out: Django logs 4xx/5xx responses after the
        # middleware chain returns, and those lines need the id too. The next
        # request on this thread sets its own.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        observe_request(request, response, time.perf_counter() - started)
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id,
    task fields when inside a task, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id_var.get(),
        }
        for key in ("task_name", "task_id"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def _site_log_formatter() -> logging.Formatter:
    """The formatter settings.LOGGING gives the site's console (LOG_FORMAT)."""
    import logging.config

    from django.conf import settings

    spec = dict(settings.LOGGING["formatters"][settings.LOG_FORMAT])
    return logging.config.DictConfigurator({"version": 1}).configure_formatter(spec)


def _worker_log_handlers_adopt(*, logger: logging.Logger) -> None:
    """Make a Celery process's log lines look like the site's.

    A worker or beat replaces the root logger's handlers with its own (to
    stderr or --logfile) in Celery's plain format, which has no request id;
    their destinations are kept, their lines become the site's (JSON with the
    request id)."""
    formatter = _site_log_formatter()
    for handler in logger.handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())


def connect_celery_signals() -> None:
    """Carry the request id from the publishing request into the task, and
    write the worker's log lines in the site's format."""
    from celery.signals import (
        after_setup_logger,
        after_setup_task_logger,
        before_task_publish,
        task_postrun,
        task_prerun,
    )

    @after_setup_logger.connect(weak=False)
    @after_setup_task_logger.connect(weak=False)
    def _adopt_handlers(logger=None, **kwargs):
        if logger is not None:
            _worker_log_handlers_adopt(logger=logger)

    @before_task_publish.connect(weak=False)
    def _add_request_id(headers=None, **kwargs):
        request_id = request_id_var.get()
        if headers is not None and request_id and "request_id" not in headers:
            headers["request_id"] = request_id

    @task_prerun.connect(weak=False)
    def _enter_task(task=None, **kwargs):
        request_id = getattr(task.request, "request_id", None) or (task.request.headers or {}).get("request_id")
        task.request._plnorg_rid_token = request_id_var.set(request_id or f"task-{task.request.id}")

    @task_postrun.connect(weak=False)
    def _leave_task(task=None, **kwargs):
        token = getattr(task.request, "_plnorg_rid_token", None)
        if token is not None:
            request_id_var.reset(token)
