"""The console at /ui in a real headless Chromium, against a live server.

The console is the same on both backends (its queries run on both in tests/api), so its
browser tests run once, on PostgreSQL.
"""

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import ADMIN_KEY, CLIENT_KEY
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres_only


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def until(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = 15) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def produce(url: str, topic: str, bodies: list[str], key: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
        registered = http.post("/producer/register", json={"topic": topic})
        producer_id = registered.json()["producer_id"]
        sent = http.post(
            "/producer/produce",
            json={"topic": topic, "producer_id": producer_id, "messages": bodies},
        )
        assert sent.status_code == 200, sent.text


def topic_rows(driver: WebDriver) -> list[str]:
    """Read in one script: the page re-renders its rows while the test looks."""
    rows: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('#topics-table tbody tr')]"
        ".map(row => row.dataset.topic)"
    )
    return rows


def browser_offsets(driver: WebDriver) -> list[int]:
    offsets: list[int] = driver.execute_script(
        "return [...document.querySelectorAll('#browser tbody tr')]"
        ".map(row => Number(row.dataset.offset))"
    )
    return offsets


def test_topics_page_lists_topics_made_through_the_api(
    server: LiveServer, browser: WebDriver
) -> None:
    names = [unique("orders"), unique("audit")]
    for name in names:
        produce(server.url, name, [f"{name} {i}" for i in range(3)])
    browser.get(server.url + "/ui")
    until(browser, lambda d: set(names) <= set(topic_rows(d)))
    lengths, charts = browser.execute_script(
        "const row = document.querySelector(`#topics-table tr[data-topic='${arguments[0]}']`);"
        "return [row.querySelector('.length').textContent,"
        " row.querySelectorAll('svg.chart').length]",
        names[0],
    )
    assert (lengths, charts) == ("3", 2)  # its length, and its produce and consume charts


def test_live_tail_shows_a_message_produced_after_the_page_opened(
    server: LiveServer, browser: WebDriver
) -> None:
    topic = unique("tail")
    produce(server.url, topic, ["already there"])
    browser.get(f"{server.url}/ui#/topic/{topic}")
    until(
        browser, lambda d: d.find_element(By.ID, "tail-state").get_attribute("data-state") == "live"
    )
    produce(server.url, topic, ["fresh off the press"])
    produced = time.monotonic()
    item = until(
        browser,
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, '#tail li[data-offset="1"]')
        ),
        timeout=2,
    )
    seen_after = time.monotonic() - produced
    assert item.text == "fresh off the press"
    assert seen_after < 2
    assert not browser.find_elements(By.CSS_SELECTOR, '#tail li[data-offset="0"]')  # from=latest


def test_browser_pages_back_by_offset_and_jumps(server: LiveServer, browser: WebDriver) -> None:
    topic = unique("pages")
    produce(server.url, topic, [f"line {i}" for i in range(45)])
    browser.get(f"{server.url}/ui#/topic/{topic}")
    until(browser, lambda d: browser_offsets(d) == list(range(44, 24, -1)))
    browser.find_element(By.ID, "older").click()
    until(browser, lambda d: browser_offsets(d) == list(range(24, 4, -1)))
    browser.find_element(By.ID, "older").click()
    until(browser, lambda d: browser_offsets(d) == [4, 3, 2, 1, 0])
    assert not browser.find_element(By.ID, "older").is_enabled()
    cells = browser.find_elements(By.CSS_SELECTOR, "#browser tbody tr td.body")
    assert [c.text for c in cells] == [f"line {i}" for i in (4, 3, 2, 1, 0)]
    browser.find_element(By.ID, "jump-offset").send_keys("30")
    browser.find_element(By.ID, "jump").click()
    until(browser, lambda d: browser_offsets(d) == list(range(30, 10, -1)))


def test_admin_creates_and_deletes_a_topic_through_the_form(
    guarded_server: LiveServer, browser: WebDriver
) -> None:
    topic = unique("made-in-browser")
    browser.get(guarded_server.url + "/ui")
    browser.find_element(By.ID, "key-input").send_keys(ADMIN_KEY)
    browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    until(browser, lambda d: d.find_elements(By.ID, "topics-table"))
    browser.find_element(By.ID, "create-name").send_keys(topic)
    browser.find_element(By.ID, "create-retention-messages").send_keys("1000")
    browser.find_element(By.ID, "create-submit").click()
    until(browser, lambda d: topic in topic_rows(d))
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    described = httpx.get(f"{guarded_server.url}/topics/{topic}", headers=admin)
    assert described.json()["retention_messages"] == 1000

    browser.find_element(By.CSS_SELECTOR, f'button.delete-topic[data-topic="{topic}"]').click()
    until(browser, expected_conditions.alert_is_present()).accept()
    until(browser, lambda d: topic not in topic_rows(d))
    assert httpx.get(f"{guarded_server.url}/topics/{topic}", headers=admin).status_code == 404


def test_with_access_control_the_page_shows_data_only_with_a_key(
    guarded_server: LiveServer, browser: WebDriver
) -> None:
    topic = unique("secret")
    produce(guarded_server.url, topic, ["classified"], key=ADMIN_KEY)
    browser.get(guarded_server.url + "/ui")
    until(browser, lambda d: d.find_elements(By.ID, "needs-key"))
    assert topic not in browser.page_source
    assert topic_rows(browser) == []

    browser.find_element(By.ID, "key-input").send_keys(CLIENT_KEY)
    browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    until(browser, lambda d: topic in topic_rows(d))
    # The key went into sessionStorage only: not the address, not a cookie.
    assert CLIENT_KEY not in browser.current_url
    assert browser.get_cookies() == []
    stored = browser.execute_script("return sessionStorage.getItem('logqueue.apiKey')")
    assert stored == CLIENT_KEY
    assert CLIENT_KEY not in guarded_server.log()


def test_swagger_ui_renders_its_operations_with_only_the_server_reachable(
    server: LiveServer, browser: WebDriver
) -> None:
    operations = httpx.get(server.url + "/openapi.json").json()["paths"]
    expected = sum(len(methods) for methods in operations.values())
    browser.get(server.url + "/docs")
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) == expected)
    assert "/topics/{topic}/stream" in browser.page_source
    loaded: list[str] = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)"
    )
    assert loaded, "Swagger UI loaded no assets"
    assert all(url.startswith(server.url) for url in loaded), loaded


def group_rows(driver: WebDriver) -> list[str]:
    rows: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('#groups-table tbody tr')]"
        ".map(row => row.dataset.group)"
    )
    return rows


def test_topic_page_shows_groups_and_creates_one(server: LiveServer, browser: WebDriver) -> None:
    topic = unique("grouped")
    produce(server.url, topic, ["a", "b", "c"])
    made = httpx.put(f"{server.url}/topics/{topic}/groups/billing", json={"start": "earliest"})
    assert made.status_code == 200, made.text
    browser.get(f"{server.url}/ui#/topic/{topic}")
    until(browser, lambda d: group_rows(d) == ["billing"])
    lag = browser.execute_script(
        "return document.querySelector(\"#groups-table tr[data-group='billing']\")"
        ".children[4].textContent"
    )
    assert lag == "3"
    browser.find_element(By.ID, "group-name").send_keys("audit")
    browser.find_element(By.CSS_SELECTOR, "#group-form button[type=submit]").click()
    until(browser, lambda d: sorted(group_rows(d)) == ["audit", "billing"])
    assert httpx.get(f"{server.url}/topics/{topic}/groups/audit").status_code == 200
