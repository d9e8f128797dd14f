"""Platform core 平台核心: divisions, users, API tokens, the audit trail."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.urls import reverse

from .choices import AuditAction, DivisionLevel, PartnerDepartment, Role


class Division(models.Model):
    """Administrative division 行政区划 (GB/T 2260)."""

    code = models.CharField("行政区划代码", max_length=6, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("级别", max_length=10, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "行政区划"

    def __str__(self):
        return self.name

    @property
    def prefix(self) -> str:
        """Code prefix shared by every division in this subtree (GB/T 2260 is positional)."""
        return {DivisionLevel.PROVINCE: self.code[:2], DivisionLevel.CITY: self.code[:4]}.get(self.level, self.code)

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class User(AbstractUser):
    """Platform account 用户 with its role and the jurisdiction it acts in."""

    display_name = models.CharField("姓名", max_length=64, blank=True)
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.REGULATOR)
    division = models.ForeignKey(
        Division, verbose_name="所属辖区", null=True, blank=True, on_delete=models.PROTECT, to_field="code"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name="所属企业", null=True, blank=True, on_delete=models.PROTECT
    )
    department = models.CharField("协同部门", max_length=20, choices=PartnerDepartment.choices, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self):
        return self.display_name or self.username

    @property
    def level_label(self) -> str:
        if self.role == Role.REGULATOR and self.division_id:
            return self.division.get_level_display() + self.get_role_display()
        return self.get_role_display()


class ApiToken(models.Model):
    """API token 接口令牌. Only the SHA-256 of the secret is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=64)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "接口令牌"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str, expires_at=None) -> tuple["ApiToken", str]:
        """Create a token and return it with the clear key, shown to the user once."""
        key = "yj_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_hash=cls.hash_key(key), prefix=key[3:11], expires_at=expires_at
        )
        return token, key


class AuditRecord(models.Model):
    """Append-only audit trail 全程留痕, chained by keyed SM3 hashes (see ``core.audit``)."""

    seq = models.BigIntegerField("序号", unique=True)
    timestamp = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL, db_constraint=False
    )
    actor_name = models.CharField("操作人", max_length=150)
    request_id = models.CharField("请求编号", max_length=64, db_index=True)
    action = models.CharField("操作", max_length=10, choices=AuditAction.choices)
    object_type = models.CharField("对象类型", max_length=64, db_index=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True, db_index=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    division_code = models.CharField("行政区划代码", max_length=6, blank=True, db_index=True)
    before = models.JSONField("修改前", null=True)
    after = models.JSONField("修改后", null=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = verbose_name_plural = "审计记录"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.seq} {self.get_action_display()} {self.object_type}:{self.object_id}"

    def get_absolute_url(self):
        return reverse("audit-detail", args=[self.seq])

    def changed_fields(self) -> list[tuple[str, object, object]]:
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class AuditChainHead(models.Model):
    """The last link of the audit chain; a truncated trail no longer reaches it."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    head_mac = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计链头"

    def __str__(self):
        return f"审计链头 #{self.last_seq}"


class RegulatedModel(models.Model):
    """Base of every regulated record 监管数据: carries its division for jurisdiction scoping.

    ``division_code`` is copied from the owning enterprise so that scoping never needs a join.
    """

    division_code = models.CharField("行政区划代码", max_length=6, db_index=True, editable=False)
    import_batch = models.CharField("导入批次", max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    # Lookups that lead to the owning enterprise's id; an enterprise user sees a row if any matches.
    scope_enterprise_fields: tuple[str, ...] = ("enterprise_id",)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.division_code = self.resolve_division_code()
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        try:
            self.division_code = self.resolve_division_code()
        except ObjectDoesNotExist:
            pass  # the missing relation is reported by field validation
        super().clean_fields(exclude=exclude)

    def resolve_division_code(self) -> str:
        return self.enterprise.division_id


class VersionedParameters(models.Model):
    """A version of a set of model parameters 参数版本 (JSON), exactly one active; scores and decisions record
    the version they used. Published through :func:`yaojian.core.services.publish_version`."""

    version = models.PositiveIntegerField("版本号", unique=True)
    parameters = models.JSONField("参数")
    note = models.CharField("修订说明", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修订人", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-version"]
