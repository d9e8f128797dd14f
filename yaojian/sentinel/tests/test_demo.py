"""Demo sentinels: sites registered among the pharmacies, planted clusters found on their third case's day."""

import datetime

import pytest

from yaojian.sentinel import demo
from yaojian.sentinel.models import Response, ResponseStatus, SentinelSite

AS_OF = datetime.date(2025, 9, 30)


@pytest.mark.django_db
def test_generate_sentinels_plants_clusters_that_detection_finds(sites_world):
    summary = demo.generate_sentinels(division="320100", as_of=AS_OF, replications=99)
    assert summary.sites == SentinelSite.objects.count() == 3  # the three pharmacies of 南京
    older, recent = summary.planted
    # Planted 8, 7, 5 and 3, 1, 0 days before AS_OF: found on the third case's day.
    assert summary.detected == {older: AS_OF - datetime.timedelta(days=5), recent: AS_OF}
    assert summary.reports > 6
    assert set(SentinelSite.objects.values_list("kind", flat=True)) == {"pharmacy"}
    # The older planted cluster is shown handled (closed), the recent one with its clocks running.
    assert Response.objects.get(cluster__detected_on=AS_OF - datetime.timedelta(days=5)).status == ResponseStatus.CLOSED
    assert Response.objects.get(cluster__detected_on=AS_OF).status == ResponseStatus.OPEN
