"""Jurisdiction scoping 辖区范围 and role permissions, without HTTP."""

import pytest
from django.apps import apps
from django.http import Http404

from yaojian.core import access

LABELS = access.REGULATED


def visible_districts(world, user_key, label):
    model = apps.get_model(label)
    user = world.users[user_key]
    rows = access.scoped(model.objects.all(), user)
    return {key for key in ("gulou", "xuanwu", "liangxi") if rows.filter(pk=world.records[(key, label)].pk).exists()}


@pytest.mark.parametrize("label", LABELS)
def test_regulators_see_their_subtree(world, label):
    assert visible_districts(world, "province", label) == {"gulou", "xuanwu", "liangxi"}
    assert visible_districts(world, "city", label) == {"gulou", "xuanwu"}  # Nanjing, not Wuxi
    assert visible_districts(world, "district", label) == {"gulou"}
    assert visible_districts(world, "admin", label) == {"gulou", "xuanwu", "liangxi"}


@pytest.mark.parametrize("label", LABELS)
def test_enterprise_user_sees_only_its_own_records(world, label):
    expected = set() if label in ("adr.adrreport", "complaints.complaint") else {"gulou"}
    assert visible_districts(world, "enterprise", label) == expected


@pytest.mark.parametrize("label", LABELS)
def test_partner_and_auditor_see_no_regulated_records(world, label):
    assert visible_districts(world, "partner", label) == set()
    assert visible_districts(world, "auditor", label) == set()


def test_role_specific_permissions(world):
    from yaojian.adr.models import AdrReport
    from yaojian.inspections.models import Inspection
    from yaojian.registry.models import Enterprise

    inspector, analyst = world.users["inspector"], world.users["adr_analyst"]
    assert access.has_perm(inspector, Inspection, access.CHANGE)
    assert not access.has_perm(inspector, Enterprise, access.CHANGE)
    assert not access.has_perm(inspector, AdrReport, access.VIEW)
    assert access.has_perm(analyst, AdrReport, access.ADD)
    assert not access.has_perm(analyst, Inspection, access.VIEW)


def test_inactive_and_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    from yaojian.registry.models import Enterprise

    district = world.users["district"]
    district.is_active = False
    assert not access.scoped(Enterprise.objects.all(), district).exists()
    assert not access.scoped(Enterprise.objects.all(), AnonymousUser()).exists()


def test_out_of_scope_object_is_404(world):
    from yaojian.registry.models import Enterprise

    foreign = world.enterprises["liangxi"]
    with pytest.raises(Http404):
        access.get_scoped_or_404(Enterprise.objects.all(), world.users["district"], pk=foreign.pk)
    assert access.get_scoped_or_404(Enterprise.objects.all(), world.users["province"], pk=foreign.pk) == foreign


def test_regulator_without_division_sees_nothing(world):
    from yaojian.registry.models import Enterprise

    user = world.users["district"]
    user.division = None
    user.division_id = None
    assert not access.scoped(Enterprise.objects.all(), user).exists()
