"""Browser tests: Debian's Chromium, headless, driven by Selenium through Debian's
chromedriver (no browser or driver is ever downloaded). The browser can reach only the
test's own server: every other host name fails to resolve and every other address goes to
a proxy that does not exist. Each test leaves a screenshot in build/screenshots/."""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from tests.live_server import LiveServer, free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ADMIN_KEY = "console-admin-key-0123456789"
CLIENT_KEY = "console-client-key-0123456789"


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server sampling rates every second, so charts fill within a test."""
    live = start_server(
        database_url,
        log_path=tmp_path_factory.mktemp("console") / "log",
        LOGQUEUE_RATE_SAMPLE_S="1",
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def guarded_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with access control on: one admin key, one client key."""
    live = start_server(
        database_url,
        log_path=tmp_path_factory.mktemp("console-auth") / "log",
        LOGQUEUE_API_KEYS=f"admin:{ADMIN_KEY},{CLIENT_KEY}",
        LOGQUEUE_RATE_SAMPLE_S="1",
    )
    yield live
    live.stop()


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
        # Nothing but the server: names other than 127.0.0.1 do not resolve, and addresses
        # other than loopback (which Chromium never proxies) go to a port nobody listens on.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--proxy-server=http://127.0.0.1:{free_port()}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        finally:
            driver.quit()
            shutil.rmtree(tmp_path / "profile", ignore_errors=True)
