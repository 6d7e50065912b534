"""End to end in a real browser (Debian's chromium, driven by Selenium): the HTML report and ganlab serve.

Skipped when chromium, chromedriver or selenium is absent (.ci/run installs chromium when missing).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ganlab.report.html import write_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[1]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,900")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip("chromium / chromedriver not installed (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def images_state(driver) -> list[dict]:
    return driver.execute_script(
        "return Array.from(document.images).map(i => ({src: i.src.slice(0, 40), complete: i.complete, "
        "width: i.naturalWidth}));")


def test_report_images_load_without_console_errors(browser, explore_run, tmp_path):
    from test_report import make_report_run

    run = make_report_run(explore_run, tmp_path / "run")
    report = write_report(run)
    browser.get(report.resolve().as_uri())
    deadline = time.time() + 30
    while not all(i["complete"] for i in images_state(browser)) and time.time() < deadline:
        time.sleep(0.2)
    images = images_state(browser)
    assert len(images) >= 6
    assert all(i["width"] > 0 for i in images), [i for i in images if i["width"] == 0]
    assert console_errors(browser) == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(explore_run):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ganlab", "serve", str(explore_run), "--port", str(port)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/info", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"ganlab serve did not start: {process.stdout.read().decode()[-2000:]}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for_image(driver, previous_src: str | None = None, timeout: float = 30) -> str:
    """The image's src once it points at /generate, differs from ``previous_src`` and has loaded."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = driver.execute_script(
            "const i = document.getElementById('image'); return [i.src, i.complete, i.naturalWidth];")
        src, complete, width = state
        if "/generate?" in src and src != previous_src and complete and width > 0:
            return src
        time.sleep(0.2)
    raise AssertionError(f"the image did not update (src {state[0][:120]}, loaded {state[1]}, width {state[2]})")


def test_serve_page_updates_the_image_when_the_class_changes(browser, served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(served + "/")
    first = wait_for_image(browser)
    assert "class=0" in first
    Select(browser.find_element(By.ID, "class")).select_by_value("3")
    second = wait_for_image(browser, previous_src=first)
    assert "class=3" in second
    before, after = (urllib.request.urlopen(src, timeout=10).read() for src in (first, second))
    assert before[:8] == b"\x89PNG\r\n\x1a\n" and before != after
    # re-drawing z changes the latent in the query and the picture again
    browser.find_element(By.ID, "redraw").click()
    third = wait_for_image(browser, previous_src=second)
    assert third.split("z=")[1] != second.split("z=")[1]
    assert console_errors(browser) == []
