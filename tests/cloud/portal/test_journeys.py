"""Both journeys of the portal by clicks only, in Debian's Chromium, at 1366×900 and 390×844
(``journeys.py``): fails on a raw JSON page, an error page, a page wider than the window and a
console error. With ``LABCAL_SCREENSHOTS=DIR`` every page is saved as a PNG in DIR
(``scripts/screenshots``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from .journeys import SIZES, JourneyWorld, live_portal, walk_journey
from .live_server import CHROMIUM_ARGS, chromium_path

LAB_STEPS = [
    "Log in",
    "Claim by QR",
    "Registered device",
    "Overview",
    "Inbox",
    "Book",
    "Booking confirmed",
    "Book again shows booked",
    "Device with certificate",
    "Verify certificate",
    "Audit export form",
    "Compliance",
]
PROVIDER_STEPS = [
    "Log in",
    "Landing on planning",
    "Orders",
    "Order with claim links",
    "Planning",
    "KPIs",
    "Policy visits",
    "Audit export for a customer",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JourneyWorld]:
    url = request.getfixturevalue("fresh_database_url") if request.param == "postgresql" else None
    with live_portal(tmp_path, url) as w:
        yield w


def _shots() -> Path | None:
    folder = os.environ.get("LABCAL_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("size", list(SIZES))
def test_lab_and_provider_journeys_by_clicks(
    browser: Browser, portal: JourneyWorld, size: str
) -> None:
    assert walk_journey(browser, portal, "lab", size, _shots()) == LAB_STEPS
    assert walk_journey(browser, portal, "provider", size, _shots()) == PROVIDER_STEPS


ERROR_STEPS = [
    "Log in",
    "Unknown address",
    "Unknown address: way on",
    "Book without a link",
    "Book without a link: way on",
    "Provider page as a lab",
    "Provider page as a lab: way on",
    "Verify without a code",
    "Book with no device ticked",
]


@pytest.mark.slow
@pytest.mark.parametrize("size", list(SIZES))
def test_dead_ends_are_error_pages_with_a_way_on(
    browser: Browser, portal: JourneyWorld, size: str
) -> None:
    assert walk_journey(browser, portal, "errors", size, _shots()) == ERROR_STEPS
