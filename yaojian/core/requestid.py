"""The id of the request (or command run) on whose behalf a change is made."""

import contextvars
import uuid

_current = contextvars.ContextVar("yaojian_request_id", default="")


def new_request_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


def current_request_id() -> str:
    value = _current.get()
    if not value:
        value = new_request_id("cli-")
        _current.set(value)
    return value


def set_request_id(value: str):
    return _current.set(value)


def reset_request_id(token) -> None:
    _current.reset(token)
