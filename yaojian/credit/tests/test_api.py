"""Credit API 信用评价接口: CRUD with audit; one rating per enterprise and day."""

from yaojian.core.tests.apitools import check_crud, token_client
from yaojian.credit.models import CreditRating


def test_crud_as_district_regulator(world):
    payload = {
        "enterprise": world.enterprises["gulou"].pk,
        "grade": "C",
        "rated_on": "2026-01-05",
        "basis": "抽检不合格",
    }
    check_crud(world.users["district"], CreditRating, "credit-ratings", payload, {"grade": "D"})


def test_duplicate_rating_is_refused_in_chinese(world):
    client = token_client(world.users["district"])
    payload = {"enterprise": world.enterprises["gulou"].pk, "grade": "A", "rated_on": "2025-06-01"}
    response = client.post("/api/credit-ratings/", payload, content_type="application/json")
    assert response.status_code == 422
    assert "已经存在" in response.json()["errors"]["__all__"][0]
