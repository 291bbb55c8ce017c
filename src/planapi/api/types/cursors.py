"""Opaque cursors for connections: a kind and a position, base64 so that clients treat them as
tokens. A cursor of another kind, or not a cursor at all, is a typed bad input naming `after`."""

from __future__ import annotations

import base64
import binascii

from planapi.domain.errors import Problem, ValidationError


def encode(kind: str, position: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode(kind: str, cursor: str) -> str:
    try:
        found, _, position = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise not_a_cursor() from error
    if found != kind:
        raise not_a_cursor()
    return position


def not_a_cursor() -> ValidationError:
    return ValidationError([Problem(("after",), "is not a cursor from this list")])
