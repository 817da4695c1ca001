"""The console in Chromium against the real controller: a SIPp caller who cannot speak presses 55,
the call taker (a SIPp softphone) answers, the call pops on the call-taker screen, becomes a
verified fire handed to Damkar, and Damkar acknowledges it on the agency view."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import random_caller, run_scenario
from pbx_bridge.sipp.takers import TakerPhone
from tests.browser.conftest import driver  # noqa: F401 - the headless Chromium fixture
from tests.integration.conftest import Controller

pytestmark = pytest.mark.integration
WAIT = 30


def wait(browser: Any, condition: Any, seconds: float = WAIT) -> Any:
    return WebDriverWait(browser, seconds).until(condition)


def open_console(browser: Any, controller: Controller, token: str) -> None:
    url = f"http://127.0.0.1:{controller.api_port}/console/"
    browser.get(url)
    browser.execute_script("sessionStorage.clear(); localStorage.clear();")
    browser.get(url)
    field = wait(browser, ec.visibility_of_element_located((By.ID, "token")))
    field.send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def test_a_sipp_55_call_goes_from_the_call_taker_screen_to_damkars_acknowledgement(
    settings: Settings,
    controller: Controller,
    driver: Any,  # noqa: F811 - the fixture imported above
) -> None:
    taker_token = controller.cli("users", "add", "ct-01", "--role", "call_taker").strip()
    damkar_token = controller.cli(
        "users", "add", "damkar-1", "--role", "agency", "--agency", "damkar"
    ).strip()
    # The call taker's softphone registers first: app_queue counts a member whose device is
    # unavailable as not ready, whatever the console asks (queue/status.py).
    phone = TakerPhone(settings, "ct-01", answer_after=0.5, talk_seconds=5, calls=1)
    caller = random_caller()
    try:
        open_console(driver, controller, taker_token)
        wait(driver, ec.element_to_be_clickable((By.ID, "btn-login"))).click()
        wait(driver, lambda d: d.find_element(By.ID, "my-state").get_attribute("data-state"))
        driver.find_element(By.ID, "btn-ready").click()
        wait(
            driver,
            lambda d: d.find_element(By.ID, "my-state").get_attribute("data-state") == "ready",
        )
        with ThreadPoolExecutor(1) as pool:
            call = pool.submit(
                run_scenario, settings, "press55", seconds=40, dtmf_at=2, caller=caller
            )
            # Live: the call pops while the call taker is on the phone, flagged 55.
            wait(driver, ec.visibility_of_element_located((By.ID, "flag-55")))
            assert call.result(timeout=60).ok
    finally:
        phone.stop(timeout=20)
        controller.cli("takers", "logout", "ct-01")

    # The call has ended and is stored: the form is there to make it an incident.
    wait(driver, ec.visibility_of_element_located((By.ID, "incident-form")))
    assert driver.find_element(By.ID, "call-number").text == caller  # a call taker: in clear
    Select(driver.find_element(By.ID, "f-category")).select_by_value("fire")
    Select(driver.find_element(By.ID, "f-priority")).select_by_value("1")
    driver.find_element(By.ID, "f-description").send_keys("Rumah terbakar, penelepon terjebak")
    driver.find_element(By.ID, "f-location").send_keys("Jl. Merdeka 10, Kendari")
    Select(driver.find_element(By.ID, "f-source")).select_by_value("caller")
    driver.find_element(By.ID, "btn-create").click()
    wait(driver, ec.visibility_of_element_located((By.ID, "incident-card")))
    driver.find_element(By.ID, "btn-verify").click()
    wait(driver, ec.element_to_be_clickable((By.ID, "btn-handoff"))).click()
    wait(driver, ec.text_to_be_present_in_element((By.ID, "inc-handoffs"), "menunggu diterima"))

    open_console(driver, controller, damkar_token)
    ack = wait(driver, ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-ack]")))
    assert "Jl. Merdeka 10, Kendari" in driver.find_element(By.CSS_SELECTOR, "li.handoff").text
    ack.click()
    wait(driver, ec.text_to_be_present_in_element((By.ID, "timeline"), "diterima · damkar"))

    record = next(
        row for row in json.loads(controller.cli("calls", "--json", "--show-numbers"))
        if row["caller_number"] == caller
    )  # fmt: skip
    assert record["disposition"] == "silent_55"
    assert record["agent"] == "ct-01"
