"""The console in Chromium: a 55 call taken to a verified fire handed to Damkar, the agency
acknowledging and closing it, the wallboard agreeing with the store, the language switch, and a
bad token told clearly. Each page's screenshot goes to docs/screenshots/."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.ci import IN_CI

if not IN_CI:  # with CI=true a missing selenium is an error, never a skip
    pytest.importorskip("selenium", reason="selenium: pip install -r requirements.lock")

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.agencies import load_agencies
from pbx_bridge.dispatch.figures import IncidentFigures
from pbx_bridge.dispatch.model import (
    AWAITING_ACK,
    Category,
    HandoffPolicy,
    Location,
    VerificationState,
)
from pbx_bridge.dispatch.repository import DispatchRepository
from pbx_bridge.dispatch.services import DispatchService, IncidentDraft
from pbx_bridge.queue.takers import MAIN_QUEUE
from pbx_bridge.reports.service import Reports
from pbx_bridge.store.models import HandoffRecord
from pbx_bridge.store.users import Role, User
from tests.browser.conftest import NUMBER, SCREENSHOTS, ZONE, Console

WAIT = 10
POLICY = HandoffPolicy(timedelta(minutes=3), timedelta(minutes=3))


def wait(driver: Any, condition: Any, seconds: float = WAIT) -> Any:
    return WebDriverWait(driver, seconds).until(condition)


def sign_in(driver: Any, token: str) -> None:
    field = wait(driver, ec.visibility_of_element_located((By.ID, "token")))
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def text_of(driver: Any, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def shot(driver: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.find_element(By.TAG_NAME, "body").screenshot(str(SCREENSHOTS / f"{name}.png"))


def test_a_55_call_pops_and_becomes_a_verified_fire_handed_to_damkar(
    page: Any, console: Console
) -> None:
    """ct-01 goes ready; the connected 55 call pops with number, repeat flag and the 55 result;
    the form makes it a located fire, verified, handed to Damkar."""
    sign_in(page, console.tokens["ct-01"])
    wait(page, ec.visibility_of_element_located((By.ID, "flag-55")))
    assert text_of(page, "call-number") == NUMBER  # a call taker sees it in clear (audited)
    assert "MENEKAN 55" in text_of(page, "flag-55")
    assert page.find_element(By.ID, "flag-repeat").is_displayed()
    assert text_of(page, "call-screening") == "Penelepon tidak dapat berbicara, menekan 55"
    assert text_of(page, "earlier-count") == "1"

    page.find_element(By.ID, "btn-ready").click()
    wait(page, lambda d: d.find_element(By.ID, "my-state").get_attribute("data-state") == "ready")
    assert console.ami.members[(MAIN_QUEUE, "PJSIP/ct-01")].paused is False

    Select(page.find_element(By.ID, "f-category")).select_by_value("fire")
    Select(page.find_element(By.ID, "f-priority")).select_by_value("1")
    page.find_element(By.ID, "f-description").send_keys("Rumah terbakar, penelepon terjebak")
    page.find_element(By.ID, "f-location").send_keys("Jl. Sam Ratulangi 12, Bulukumba")
    page.find_element(By.ID, "f-lat").send_keys("-5.5577")
    page.find_element(By.ID, "f-lon").send_keys("120.1953")
    Select(page.find_element(By.ID, "f-source")).select_by_value("caller")
    page.find_element(By.ID, "btn-create").click()
    wait(page, ec.visibility_of_element_located((By.ID, "incident-card")))
    page.find_element(By.ID, "btn-verify").click()
    handoff = wait(page, ec.element_to_be_clickable((By.ID, "btn-handoff")))
    assert "Damkar" in handoff.text or "damkar" in handoff.text.lower()
    handoff.click()
    wait(page, ec.text_to_be_present_in_element((By.ID, "inc-handoffs"), "menunggu diterima"))
    shot(page, "call-taker")

    async def stored(engine: AsyncEngine) -> tuple[Any, list[str]]:
        repo = DispatchRepository(engine)
        status = await repo.call_status("c-live-55")
        assert status.incident_id is not None
        incident = await repo.incident(status.incident_id)
        handoffs = await repo.handoffs(incident_id=status.incident_id)
        return incident, [h.agency for h in handoffs]

    incident, agencies = console.run(stored)
    assert (incident.category, incident.verification) == ("fire", "verified")
    assert incident.priority == 1
    assert (incident.location.latitude, incident.location.longitude) == (-5.5577, 120.1953)
    assert incident.location.text == "Jl. Sam Ratulangi 12, Bulukumba"
    assert agencies == ["damkar"]


def test_call_connected_on_the_live_events_pops_the_call_at_once(
    page: Any, console: Console
) -> None:
    """`call.connected` {call_id, agent} for this call taker pops that call without waiting for
    the poll; one whose record is not stored yet pops from the event and says so."""
    sign_in(page, console.tokens["ct-01"])
    wait(page, ec.text_to_be_present_in_element((By.ID, "call-id"), "c-live-55"))
    wait(page, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "on")
    page.find_element(By.ID, "btn-dismiss").click()  # done with it: the poll will not bring it back
    console.publish("call.connected", {"call_id": "c-info", "agent": "ct-02"})  # not ours
    console.publish("call.connected", {"call_id": "c-info", "agent": "ct-01"})
    wait(page, ec.text_to_be_present_in_element((By.ID, "call-id"), "c-info"), seconds=3)
    assert "Penelepon berbicara" in text_of(page, "call-screening")
    assert not page.find_elements(By.ID, "flag-55")
    event = {
        "call_id": "c-not-stored",
        "agent": "ct-01",
        "caller_number": NUMBER,  # the bus masks it: the event never carries it in clear
        "queue_reason": "pressed_55",
        "cannot_speak": True,
        "arrived_at": datetime.now(ZONE).isoformat(),
    }
    console.publish("call.connected", event)
    wait(page, ec.text_to_be_present_in_element((By.ID, "call-id"), "c-not-stored"), seconds=3)
    assert page.find_element(By.ID, "flag-55").is_displayed()
    assert text_of(page, "call-number") == "**********90"
    assert "belum tersimpan" in text_of(page, "call-live")


def test_the_agency_acknowledges_its_handoff_then_closes_it(page: Any, console: Console) -> None:
    """Damkar sees the fire with its location, acknowledges (live), then closes; the timeline
    follows."""
    sign_in(page, console.tokens["damkar"])
    ack = wait(page, ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-ack]")))
    card = page.find_element(By.CSS_SELECTOR, "li.handoff")
    assert "Jl. Sam Ratulangi 12" in card.text
    assert "-5.55770" in card.text
    ack.click()
    close = wait(page, ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-close]")))
    wait(page, ec.text_to_be_present_in_element((By.ID, "timeline"), "diterima · damkar"))
    shot(page, "agency")
    close.click()
    wait(page, ec.text_to_be_present_in_element((By.ID, "timeline"), "selesai (instansi)"))
    assert page.find_element(By.CSS_SELECTOR, "li.handoff").get_attribute("data-state") == "closed"

    async def states(engine: AsyncEngine) -> list[tuple[str, str]]:
        async with engine.connect() as connection:
            rows = await connection.execute(select(HandoffRecord.agency, HandoffRecord.state))
            return [(row.agency, row.state) for row in rows]

    assert console.run(states) == [("damkar", "closed")]


def test_the_wallboards_numbers_are_the_stores(page: Any, console: Console) -> None:
    """Every count on the wallboard equals the centre report computed from the database."""
    console.ami.wait(MAIN_QUEUE, "c-waiting", 23, priority=5)
    console.ami.wait(MAIN_QUEUE, "c-waiting-2", 7, priority=10)

    async def open_fire(engine: AsyncEngine) -> None:
        # One handoff no agency has acknowledged, made the way a call taker makes one.
        service = DispatchService(
            DispatchRepository(engine), load_agencies(), POLICY, lambda _kind, _data: None
        )
        ct = User("ct-03", Role.CALL_TAKER)
        draft = IncidentDraft(Category.FIRE, "asap di pasar", Location("Pasar Sentral"), 2)
        incident = await service.create_incident("c-fire-2", draft, ct)
        await service.verify(incident.id, VerificationState.VERIFIED, "", ct)
        await service.hand_off(incident.id, "", ct)

    console.run(open_fire)
    sign_in(page, console.tokens["sv-01"])
    wait(page, lambda d: d.find_element(By.ID, "t-waiting").get_attribute("data-value") == "2")

    async def expected(engine: AsyncEngine) -> tuple[dict[str, Any], int]:
        reports = Reports(engine, ZONE, dispatch=IncidentFigures(engine))
        today = datetime.now(ZONE).date()
        report = (await reports.centre(reports.period(today, today))).as_json()
        waiting = await DispatchRepository(engine).handoffs(states=AWAITING_ACK)
        return report, len(waiting)

    report, unacknowledged = console.run(expected)
    assert report["total_calls"] > 0  # the seeded calls are today's (local day)

    def shown(element_id: str) -> str:
        return str(page.find_element(By.ID, element_id).get_attribute("data-value"))

    assert shown("t-total") == str(report["total_calls"])
    assert shown("t-unanswered") == str(report["unanswered_in_queue"])
    assert shown("t-valid") == str(report["answered_valid"])
    assert shown("t-invalid") == str(report["answered_invalid"])
    assert shown("t-55") == str(report["pressed_55"])
    assert shown("t-emergencies") == str(report["dispatch"]["verified_emergencies"])
    assert float(shown("t-sla")) == report["answer_times"]["within_15s_pct_of_answered"]
    assert shown("t-longest") == "23"
    assert len(page.find_elements(By.CSS_SELECTOR, "#unacked tr")) == unacknowledged == 1
    ct01 = page.find_element(By.CSS_SELECTOR, "#takers tr[data-taker='ct-01'] .state-badge")
    assert ct01.get_attribute("data-state") == "ready"
    bars = page.find_elements(By.CSS_SELECTOR, "#chart-calls rect.bar.offered")
    assert len(bars) >= 2  # the legend's swatch and at least one hour with calls
    shot(page, "wallboard")


def test_the_language_switches_to_english_and_is_remembered(page: Any, console: Console) -> None:
    assert text_of(page, "view-login").startswith("Masuk ke konsol 112")
    Select(page.find_element(By.ID, "lang")).select_by_value("en")
    assert text_of(page, "view-login").startswith("Sign in to the 112 console")
    sign_in(page, console.tokens["sv-01"])
    wait(page, ec.text_to_be_present_in_element((By.ID, "view-wallboard"), "Calls by hour"))
    page.refresh()
    wait(page, ec.text_to_be_present_in_element((By.ID, "view-wallboard"), "Answer time by hour"))
    assert page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_a_bad_token_is_refused_with_a_clear_401_message(page: Any) -> None:
    sign_in(page, "not-a-token")
    error = wait(page, ec.visibility_of_element_located((By.ID, "login-error")))
    assert "401" in error.text
    assert "Token tidak dikenal" in error.text
    assert page.execute_script("return sessionStorage.getItem('pbx-bridge.token')") is None
