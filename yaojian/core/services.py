"""Write path 写入服务 for regulated records.

Every create, update and delete goes through these functions with an explicit actor:
they check the actor's scope, validate, save, and append the audit record in the same
transaction (Zulip's ``do_…(…, acting_user)`` habit).
"""

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.dispatch import Signal

from . import access, audit
from .choices import AuditAction

# Sent after commit whenever regulated records change, with ``enterprise_ids`` (a set):
# lets derived views such as the risk portrait update incrementally.
records_changed = Signal()


def _enterprise_id(obj) -> int | None:
    if obj._meta.label_lower == "registry.enterprise":
        return obj.pk
    for path in getattr(obj, "scope_enterprise_fields", ()):
        value = obj
        for part in path.removesuffix("_id").split("__"):
            value = getattr(value, part, None)
        if value is not None:
            return value.pk
    return None


def notify_changed(model, enterprise_ids) -> None:
    """Announce changed enterprises once the surrounding transaction commits."""
    ids = {e for e in enterprise_ids if e is not None}
    if ids:
        transaction.on_commit(lambda: records_changed.send(sender=model, enterprise_ids=ids))


def _check(actor, obj, action: str) -> None:
    if actor is None:
        return
    if not access.has_perm(actor, type(obj), action):
        raise PermissionDenied("无此操作权限")
    if action == access.ADD:
        if not access.division_in_scope(actor, obj.resolve_division_code()):
            raise PermissionDenied("超出辖区范围")
    elif not access.can_act_on(actor, obj, action):
        raise PermissionDenied("超出辖区范围")


@transaction.atomic
def create_record(model: type[models.Model], *, actor, **fields) -> models.Model:
    obj = model(**fields)
    obj.full_clean()
    _check(actor, obj, access.ADD)
    obj.save()
    audit.record_change(obj, actor=actor, action=AuditAction.CREATE, after=audit.snapshot(obj))
    notify_changed(model, [_enterprise_id(obj)])
    return obj


@transaction.atomic
def update_record(obj: models.Model, *, actor, **changes) -> models.Model:
    _check(actor, obj, access.CHANGE)
    before = audit.snapshot(type(obj)._default_manager.get(pk=obj.pk))
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    after = audit.snapshot(obj)
    if after != before:
        audit.record_change(obj, actor=actor, action=AuditAction.UPDATE, before=before, after=after)
        notify_changed(type(obj), [_enterprise_id(obj)])
    return obj


@transaction.atomic
def delete_record(obj: models.Model, *, actor) -> None:
    _check(actor, obj, access.DELETE)
    before = audit.snapshot(obj)
    audit.record_change(obj, actor=actor, action=AuditAction.DELETE, before=before)
    enterprise_id = _enterprise_id(obj) if type(obj)._meta.label_lower != "registry.enterprise" else None
    obj.delete()
    notify_changed(type(obj), [enterprise_id])


@transaction.atomic
def save_form_instance(form, *, actor) -> models.Model:
    """Save a ModelForm through the audited path (create or update)."""
    obj = form.instance
    if obj.pk is None or obj._state.adding:
        fields = {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields if not f.primary_key}
        return create_record(type(obj), actor=actor, **fields)
    changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
    return update_record(type(obj)._default_manager.get(pk=obj.pk), actor=actor, **changes)


@transaction.atomic
def publish_version(current, parameters: dict, *, actor, note: str = ""):
    """Store ``parameters`` as the version after ``current`` (a VersionedParameters row) and make it the only
    active one; audited with the before and after parameters."""
    model = type(current)
    config = model.objects.create(
        version=current.version + 1, parameters=parameters, note=note, is_active=True, created_by=actor
    )
    model.objects.exclude(pk=config.pk).update(is_active=False)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=model._meta.label_lower,
        object_id=config.pk,
        object_repr=str(config),
        before={"version": current.version, "parameters": current.parameters},
        after={"version": config.version, "parameters": parameters},
    )
    return config
