"""The two journeys of the portal, walked by clicks in Debian's Chromium (Playwright) on a live
portal seeded with the demo data — used by ``test_journeys.py`` and by ``scripts/screenshots``.

Setup (not part of a journey): the demo seed (``portal.demo.seed_demo``), one signed calibration,
the engine's due states, and one real scheduler pass (planning + inbox delivery). From there on
everything is a click, a form field or a download, as a person does it:

- lab: open the QR claim link → log in → register the device → device overview → inbox → "Book
  calibration" → book → the reminder again shows the devices booked → a device's certificate
  (PDF download, verification page) → audit export (ZIP download);
- provider: log in → lands on planning → orders and labels: create an order, download its label
  sheet → planning → KPIs → policy visits → audit export for a customer (ZIP download).

Every page is checked: HTML (never a raw JSON answer), no error page, no HTTP error, the body not
wider than the window (``scrollWidth > clientWidth``), no console error or page error.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page

from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.service import refresh_due_states
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.portal.app import build_services, create_app
from labcal_cloud.portal.demo import seed_demo
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.scheduler.channels import InboxSender
from labcal_cloud.scheduler.due_planning import plan_due_reminder_steps
from labcal_cloud.scheduler.ports import ClaimedStep
from labcal_cloud.scheduler.reminder_store import SqlReminderStore
from labcal_cloud.scheduler.restate import DueRestater
from labcal_cloud.scheduler.runner import run_pass
from labcal_shared.contracts import GravimetricRun

from .helpers import make_signing_pair, sample_run
from .live_server import free_port, serve

__all__ = ["SIZES", "JourneyWorld", "Walk", "lab_journey", "live_portal", "provider_journey"]

PASSWORD = "demo-password-1"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday; fixed, so screenshots are stable
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
LINK_SECRET = "journey-link-secret-" + "x" * 24


class Outbox:
    """The e-mail channel of this setup keeps what it sends (the SMTP path has its own tests)."""

    def __init__(self) -> None:
        self.sent: list[ClaimedStep] = []

    def send(self, step: ClaimedStep) -> None:
        self.sent.append(step)


class EventList:
    def publish(self, event: object) -> None:
        pass


@dataclass
class JourneyWorld:
    url: str
    services: Services
    lab_email: str
    planner_email: str
    claim_code: str
    claim_serial: str
    certified_serial: str


def _seed(s: Services) -> tuple[str, str, str, str, str]:
    logins = seed_demo(s, 40, PASSWORD)
    device = next(d for d in s.registry.order_devices("DEMO-2026-001") if not d.tenant_id)
    assert device.claim_code is not None
    # one device of the lab with a signed certificate (a Acme P100 of the seed)
    lines = s.registry.overview(logins.tenant_id, NOW.date(), None)
    target = next(x.device for x in lines if x.device.model == "P100")
    run = sample_run(target.serial, ended_at=NOW - timedelta(days=3))
    s.certificates.record(
        target.id,
        GravimetricRun.model_validate(run),
        balance_traceability="DAkkS D-K-12345 certificate 2026-117",
        balance_valid_until=NOW + timedelta(days=300),
    )
    # the engine's due states, then one scheduler pass: the reminders reach the inbox
    refresh_due_states(SqlEngineRepository(s.db), EventList(), DuePolicy(), now=NOW)
    return logins.lab_admin, logins.planner, device.claim_code, device.serial, target.serial


def _deliver_reminders(s: Services, url: str) -> int:
    plan_due_reminder_steps(
        s.db, now=NOW, link_key=LINK_SECRET.encode(), booking_base_url=f"{url}/book"
    )
    store = SqlReminderStore(s.db)
    result = run_pass(
        store,
        {"inbox": InboxSender(store, lambda: NOW), "email": Outbox()},
        worker="journey",
        now=lambda: NOW,
        batch=500,
        restate=DueRestater(s.db),
    )
    return result.sent


@contextmanager
def live_portal(folder: Path, database_url: str | None = None) -> Iterator[JourneyWorld]:
    """A live portal (uvicorn; SQLite in ``folder`` unless ``database_url``) with the demo seed
    and delivered reminders."""
    key, cert = make_signing_pair(folder / "signing", "LabCal Service (journey)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = PortalSettings(
        database_url=database_url or f"sqlite:///{folder / 'journey.db'}",
        fast_password_hashing=True,
        base_url=url,
        link_secret=LINK_SECRET,
        signing_key=key,
        signing_cert=cert,
    )
    runtime = Runtime(now=lambda: NOW, new_id=lambda: uuid.uuid4().hex)
    services = build_services(settings, runtime)
    # in a thread of its own: signing runs asyncio, and Playwright's sync API holds this one's loop
    with ThreadPoolExecutor(1) as pool:
        lab, planner, code, serial, certified = pool.submit(_seed, services).result()
    sent = _deliver_reminders(services, url)
    assert sent > 0, "the scheduler delivered no reminder to the inbox"
    app = create_app(settings, services=services)
    try:
        with serve(app, port) as base:
            yield JourneyWorld(base, services, lab, planner, code, serial, certified)
    finally:
        services.db.close()


def small(png: Path) -> None:
    """Keep a committed screenshot small: 256 colours (the portal uses few), optimised."""
    with Image.open(png) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(png, optimize=True)


@dataclass
class Walk:
    """One journey at one window size: checks each page and optionally saves a screenshot."""

    page: Page
    journey: str
    size: str
    shots: Path | None = None
    steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _shot: int = 0

    def __post_init__(self) -> None:
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on(
            "response",
            lambda r: (
                self.errors.append(f"HTTP {r.status} {r.url}")
                if r.status >= 400
                and r.request.resource_type in ("document", "stylesheet", "image")
                else None
            ),
        )

    def check(self, step: str, *, error_page: bool = False, shot: bool = True) -> None:
        """The page after ``step``: HTML, no error page (or one, when ``error_page``), fits the
        width, no console error."""
        page = self.page
        page.wait_for_load_state("load")
        where = f"{self.journey}/{self.size}: {step} ({page.url})"
        kind = page.evaluate("document.contentType")
        assert kind == "text/html", f"{where}: a {kind} page, not HTML"
        text = page.inner_text("body").strip()
        assert not text.startswith(("{", "[")), f"{where}: raw JSON: {text[:120]}"
        shown = page.locator("#error-page").count()
        assert shown == int(error_page), f"{where}: error page {shown}: {text[:200]}"
        widths = page.evaluate(
            "[document.body.scrollWidth, document.body.clientWidth,"
            " document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{where}: body overflows sideways {widths}"
        assert widths[2] <= widths[3], f"{where}: page overflows sideways {widths}"
        assert not self.errors, f"{where}: {self.errors}"
        self.steps.append(step)
        if self.shots is not None and shot:
            self._shot += 1
            name = "-".join("".join(c if c.isalnum() else " " for c in step.lower()).split())
            target = self.shots / f"{self.journey}-{self._shot:02d}-{name}-{self.size}.png"
            page.screenshot(path=str(target), full_page=False)
            small(target)

    def click(self, selector: str) -> None:
        """Click something that opens another page, and wait for it."""
        with self.page.expect_navigation():
            self.page.click(selector)

    def menu(self, label: str) -> None:
        self.click(f'header nav a:text-is("{label}")')

    def download(self, selector: str) -> bytes:
        with self.page.expect_download() as info:
            self.page.click(selector)
        path = info.value.path()
        assert not self.errors, f"{self.journey}/{self.size}: {self.errors}"
        return Path(path).read_bytes()

    def log_in(self, email: str, *, shot: bool = True) -> None:
        assert "/login" in self.page.url
        self.check("Log in", shot=shot)
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.click('form[action="/login"] button[type=submit]')


def lab_journey(w: JourneyWorld, walk: Walk) -> None:
    page = walk.page
    # the QR label on the device leads here (the phone's camera opens the link)
    page.goto(f"{w.url}/claim/{w.claim_code}")
    walk.log_in(w.lab_email)
    assert page.inner_text("h1").startswith("Register your")
    walk.check("Claim by QR")
    walk.click('form[action^="/claim/"] button[type=submit]')
    assert w.claim_serial in page.inner_text("h1")
    walk.check("Registered device")
    walk.menu("Devices")
    assert page.locator("#devices tbody tr").count() > 20
    walk.check("Overview")
    walk.menu("Inbox")
    card = page.locator("article.message").first
    assert card.locator("a.button", has_text="Book calibration").count() == 1
    assert page.locator("pre").count() == 0
    walk.check("Inbox")
    walk.click("article.message >> nth=0 >> a.button")
    assert page.inner_text("h1").startswith("Book calibration at")
    ticked = page.locator('input[name="device_ids"]:checked').count()
    assert ticked >= 1, "the reminder's device is not ticked"
    walk.check("Book")
    walk.click('form[action="/bookings"] button[type=submit]')
    assert page.inner_text("#booking-status") == "Booking confirmed."
    walk.check("Booking confirmed")
    walk.menu("Inbox")
    walk.click("article.message >> nth=0 >> a.button")  # the same reminder again
    assert page.locator(".booked").count() >= ticked  # shown booked, with the day ...
    assert page.locator('input[name="device_ids"]:checked').count() == 0  # ... not offered
    walk.check("Book again shows booked")
    walk.menu("Devices")
    walk.click(f'#devices tr:has-text("SN {w.certified_serial}") a >> nth=0')
    assert page.locator("#history a", has_text="PDF").count() == 1
    assert page.locator("svg.chart polyline.mpe").count() >= 2
    walk.check("Device with certificate")
    pdf = walk.download('#history a:text-is("PDF")')
    assert pdf.startswith(b"%PDF")
    walk.click('#history a:text-is("verify")')
    assert page.inner_text("h1").startswith("Certificate ")
    walk.check("Verify certificate")
    walk.menu("Audit export")
    walk.check("Audit export form")
    archive = walk.download("#audit-form button[type=submit]")
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert any(n.endswith(".pdf") for n in names), names
    walk.menu("Compliance")
    walk.check("Compliance")


def provider_journey(w: JourneyWorld, walk: Walk) -> None:
    page = walk.page
    page.goto(w.url)
    walk.log_in(w.planner_email)
    assert page.url.endswith("/provider/planning"), page.url
    walk.check("Landing on planning")
    walk.menu("Orders & labels")
    walk.check("Orders")
    ref = "SO-2026-0420"  # each walk has a fresh portal
    page.fill("#order_ref", ref)
    page.fill("#lines", f"Acme, P200, {ref}-1, 200\nAcme, P200, {ref}-2, 200")
    walk.click("#new-order button[type=submit]")
    assert page.inner_text("h1") == f"Order {ref}"
    assert page.locator("code", has_text="/claim/").count() == 2
    walk.check("Order with claim links")
    sheet = walk.download("#labels")
    assert sheet.startswith(b"%PDF")
    walk.menu("Planning")
    assert page.locator("table.heat tbody tr").count() >= 3
    walk.check("Planning")
    walk.menu("KPIs")
    assert page.locator("svg.chart text.value").count() >= 6
    walk.check("KPIs")
    walk.menu("Policy visits")
    walk.check("Policy visits")
    walk.menu("Audit export")
    page.select_option("#tenant_id", label="Rhein Biolabs")
    walk.check("Audit export for a customer")
    archive = walk.download("#audit-form button[type=submit]")
    assert zipfile.ZipFile(io.BytesIO(archive)).namelist()


def error_pages(w: JourneyWorld, walk: Walk) -> None:
    """The dead ends of before, as a signed-in lab user meets them: each is one error page (or
    the form again) that fits the window and offers a way on."""
    page = walk.page
    page.goto(f"{w.url}/devices")
    walk.log_in(w.lab_email, shot=False)
    for path, status, step in (
        ("/no/such/page", 404, "Unknown address"),
        ("/book", 404, "Book without a link"),
        ("/provider/kpis", 403, "Provider page as a lab"),
    ):
        response = page.goto(f"{w.url}{path}")
        assert response is not None
        assert response.status == status, (path, response.status)
        walk.errors.clear()  # the browser logs the document's own 4xx; nothing else may fail
        walk.check(step, error_page=True)
        walk.click("#error-page a.button")  # the way on is a real page
        walk.check(f"{step}: way on", shot=False)
    page.goto(f"{w.url}/verify")
    walk.check("Verify without a code")
    page.goto(f"{w.url}/bookings")
    walk.click("main a.button >> nth=0")  # book a site
    page.locator('input[name="device_ids"]').evaluate_all(
        "els => els.forEach(e => e.checked = false)"
    )
    with page.expect_navigation():
        page.click('form[action="/bookings"] button[type=submit]')
    walk.errors.clear()  # 422: the form again, with its message
    assert page.inner_text("[role=alert]") == "Tick at least one device to book."
    walk.check("Book with no device ticked")


JOURNEYS: dict[str, Callable[[JourneyWorld, Walk], None]] = {
    "lab": lab_journey,
    "provider": provider_journey,
    "errors": error_pages,
}


def walk_journey(
    browser: Browser, w: JourneyWorld, journey: str, size: str, shots: Path | None = None
) -> list[str]:
    """Walk ``journey`` at ``size`` in a fresh browser context; the steps that passed."""
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    try:
        walk = Walk(context.new_page(), journey, size, shots)
        JOURNEYS[journey](w, walk)
        return walk.steps
    finally:
        context.close()
