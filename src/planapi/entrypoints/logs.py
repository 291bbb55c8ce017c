"""Log lines for people (`PLANAPI_LOG_FORMAT=text`) or for collectors (`json`: one JSON object a
line, with the request id), set up the same way in the CLI and in every uvicorn worker."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
from typing import Any

from pydantic import ValidationError

from planapi.api.types.context import request_id
from planapi.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# Attributes every LogRecord has; anything else was passed as `extra=` and goes into the line.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}
# uvicorn's access lines: '%s - "%s %s HTTP/%s" %d' % (client, method, path, version, status).
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served (`-` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and exc_info (the
    formatted traceback) when there is one; fields passed with `extra=` are kept."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            entry.update(zip(_ACCESS_FIELDS, args, strict=True))
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(log_format: str = "text", level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict; uvicorn applies it in each worker process too."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if log_format == "json"
        else {"format": TEXT_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"planapi": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["request_id"],
                "formatter": "planapi",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # uvicorn's loggers write through the root handler, in the same format.
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure(log_format: str = "text", level: str = "info") -> None:
    logging.config.dictConfig(logging_config(log_format, level))


def configure_from_environment() -> None:
    """Logging as the settings ask; with settings that do not validate, the plain default (the
    command that reads them reports what is wrong). Like `logging.basicConfig`, it leaves a
    process whose logging is already set up (a test runner calling `main`) as it is."""
    if logging.getLogger().handlers:
        return
    try:
        settings = Settings()
    except ValidationError:
        configure()
        return
    configure(settings.log_format, settings.log_level)
