"""Topic builder and parser: ``labcal/v1/{tenant}/{station}/{kind}``."""

from __future__ import annotations

import re

import pytest

from labcal_shared.contracts import Kind, Topic, build_topic, parse_topic, station_filter
from labcal_shared.errors import TopicError


@pytest.mark.parametrize("kind", list(Kind))
def test_build_and_parse_round_trip(kind: Kind) -> None:
    topic = build_topic("acme-lab", "st_01.a", kind)
    assert topic == f"labcal/v1/acme-lab/st_01.a/{kind.value}"
    assert parse_topic(topic) == Topic("acme-lab", "st_01.a", kind)
    assert str(parse_topic(topic)) == topic


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("labcal/v1/acme/st1", "has 4 levels"),
        ("labcal/v1/acme/st1/reading/extra", "has 6 levels"),
        ("other/v1/acme/st1/reading", "does not start with 'labcal'"),
        ("labcal/v2/acme/st1/reading", "unsupported version 'v2'"),
        ("labcal/v1/+/st1/reading", "invalid tenant '+'"),
        ("labcal/v1/acme/#/reading", "invalid station '#'"),
        ("labcal/v1/acme//reading", "invalid station ''"),
        ("labcal/v1/acme/st1/weights", "unknown kind 'weights'"),
        ("labcal/v1/" + "a" * 65 + "/st1/reading", "invalid tenant"),
    ],
)
def test_parse_refuses_bad_topics(topic: str, text: str) -> None:
    with pytest.raises(TopicError, match=re.escape(text)):
        parse_topic(topic)


@pytest.mark.parametrize(
    ("tenant", "station", "kind"),
    [("ac me", "st1", "usage"), ("acme", "-st1", "usage"), ("acme", "st1", "bogus")],
)
def test_build_refuses_bad_parts(tenant: str, station: str, kind: str) -> None:
    with pytest.raises(TopicError):
        build_topic(tenant, station, kind)


def test_station_filter_wildcards() -> None:
    assert station_filter() == "labcal/v1/+/+/+"
    assert station_filter("acme", kind="usage") == "labcal/v1/acme/+/usage"
    with pytest.raises(TopicError):
        station_filter("ac/me")
    with pytest.raises(TopicError):
        station_filter(kind="nope")
