"""API authentication 接口认证: bearer tokens for programs, the session for logged-in browsers.

A token is looked up by the SHA-256 of the presented key (the clear key is never stored);
an expired token, or one whose account is disabled, authenticates nobody. ``api_auth(model,
action)`` also refuses a role without the right (403) as soon as the caller is known, before
the request body is read, so a refused write answers 403 whatever it sent.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from . import access, audit
from .choices import AuditAction
from .models import ApiToken

LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class _RoleCheck:
    """Refuses (403) an authenticated caller whose role may not do ``action`` on ``model``."""

    def __init__(self, model=None, action: str = access.VIEW):
        self.required = (model, action) if model is not None else None
        super().__init__()

    def permitted(self, user):
        if user is not None and self.required is not None and not access.has_perm(user, *self.required):
            raise PermissionDenied("无此操作权限")
        return user


class TokenAuth(_RoleCheck, HttpBearer):
    """``Authorization: Bearer yj_…`` — a token issued by ``yaojian token create``."""

    def authenticate(self, request, token: str):
        if not token:
            return None
        found = ApiToken.objects.select_related("user", "user__division").filter(key_hash=ApiToken.hash_key(token))
        api_token = found.first()
        if api_token is None or not api_token.user.is_active:
            return None
        now = timezone.now()
        if api_token.expires_at is not None and api_token.expires_at <= now:
            return None
        # Recorded to the minute: a write per request would serialise SQLite readers behind the writer lock.
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user  # so that code reading request.user sees the token's owner
        return self.permitted(api_token.user)


class LoginSession(_RoleCheck, SessionAuth):
    """The browser's login session (unsafe methods need the CSRF token)."""

    def authenticate(self, request, key):
        return self.permitted(super().authenticate(request, key))


def api_auth(model=None, action: str = access.VIEW) -> list:
    # Token first: a program that sends a token is judged by it, not by a stray cookie.
    return [TokenAuth(model, action), LoginSession(model, action)]


API_AUTH = api_auth()


def _record(token: ApiToken, *, actor, action: str, **change) -> None:
    audit.record(
        actor=actor,
        action=action,
        object_type=ApiToken._meta.label_lower,
        object_id=token.pk,
        object_repr=f"{token.user.username} {token}",
        division_code=token.user.division_id or "",
        **change,
    )


@transaction.atomic
def issue_token(user, name: str, *, days: int | None = None, actor=None) -> tuple[ApiToken, str]:
    """Issue a token 签发令牌 (audited: who gave whom a key, never the key itself)."""
    expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
    token, key = ApiToken.issue(user, name, expires_at=expires_at)
    after = {"user": user.username, "name": name, "prefix": token.prefix, "expires_at": expires_at}
    _record(token, actor=actor, action=AuditAction.CREATE, after=after)
    return token, key


@transaction.atomic
def revoke_token(token: ApiToken, *, actor=None) -> None:
    """Revoke a token 吊销令牌 (audited)."""
    _record(token, actor=actor, action=AuditAction.DELETE, before={"user": token.user.username, "name": token.name})
    token.delete()
