"""The demo in a real browser: ``streamlit run app.py`` driven by headless Chromium through Playwright.

It checks what ``AppTest`` cannot: that the served page renders, takes typed input and shows the
answer and the attention tables. It takes a screenshot of the page; with ``MEMNET_UPDATE_SCREENSHOT=1``
it writes it to ``docs/demo.png`` (the one in the README), otherwise to a temporary folder, so that a
test run leaves the working tree as it was.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the PyPI package ``playwright``
(its own browser download, ``playwright install``, is not used). Without them it is skipped, with
the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BABI_ROOT

REPO_ROOT = Path(__file__).resolve().parents[1]
BABI_EN = BABI_ROOT / "en"
SCREENSHOT = REPO_ROOT / "docs" / "demo.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SERVER_START_SECONDS = 90
ANSWER_SECONDS = 120  # the first page run imports TensorFlow and loads the model

sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
if not CHROMIUM.is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, seconds: float) -> None:
    """Poll Streamlit's health endpoint until it answers ``ok`` (or fail with the server's output)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not answer on {url} within {seconds} s")


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory):
    """``streamlit run app.py`` on a free localhost port, with one freshly trained task-1 run to use."""
    if not BABI_EN.is_dir():
        pytest.skip(f"real bAbI v1.2 data not found at {BABI_EN}")
    from memnet.demo import DEMO_EPOCHS, QUICK_TRAINING
    from memnet.experiment import train_experiment

    runs = tmp_path_factory.mktemp("browser_runs")  # trained as the page would (about 20-30 s)
    train_experiment(tasks=[1], data_dir=BABI_EN, out_dir=runs / "qa1", epochs=DEMO_EPOCHS, runs=1, verbose=0,
                     training_overrides=QUICK_TRAINING)

    port = free_port()
    env = {**os.environ, "MEMNET_RUNS_DIR": str(runs), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("MEMNET_BABI_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--client.toolbarMode", "viewer"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, SERVER_START_SECONDS)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_for_the_script(page) -> None:
    """Wait until Streamlit has finished running the page's script: no running icon, no stale (faded) element.

    While it runs, the previous run's elements stay on the page, faded, until they are replaced.
    """
    sync_api.expect(page.locator('[data-testid^="stStatusWidgetRunning"]')).to_have_count(0, timeout=60_000)
    sync_api.expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=60_000)


def test_the_page_answers_a_question_in_a_real_browser(served_demo, tmp_path):
    update_docs = os.environ.get("MEMNET_UPDATE_SCREENSHOT") == "1"
    screenshot = SCREENSHOT if update_docs else tmp_path / "demo.png"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(served_demo)

            expect = sync_api.expect  # assertions that wait for the page to settle (reruns take a moment)
            # The first test story of task 1 ("John travelled to the hallway. Mary journeyed to the
            # bathroom." / "Where is John?") is answered as soon as the page loads.
            expect(page.get_by_text("The test set's answer is hallway")).to_be_visible(timeout=ANSWER_SECONDS * 1000)
            wait_for_the_script(page)
            expect(page.get_by_text("hallway with probability")).to_have_count(1)

            # Test story 14 by its index: ten sentences; Mary's last move is to the bedroom (sentence 7).
            story_index = page.get_by_label("Test story")
            story_index.fill("14")
            story_index.press("Enter")
            expect(page.get_by_text("The test set's answer is bedroom")).to_be_visible(timeout=30_000)
            wait_for_the_script(page)

            question = page.get_by_label("Question")
            question.fill("Where is John?")  # not the test question: answered, no supporting facts known
            question.press("Enter")
            expect(page.get_by_text("garden with probability")).to_be_visible(timeout=30_000)
            wait_for_the_script(page)
            expect(page.get_by_text("The test set's answer is")).to_have_count(0)

            question.fill("Where is Mary?")  # the test question again: its supporting fact is marked
            question.press("Enter")
            expect(page.get_by_text("The test set's answer is bedroom")).to_be_visible(timeout=30_000)
            wait_for_the_script(page)
            expect(page.get_by_text("bedroom with probability")).to_have_count(1)
            expect(page.get_by_text("supporting facts marked ✓")).to_have_count(1)
            expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(2)  # alternatives, attention
            for hop in (1, 2, 3):
                expect(page.get_by_text(f"Hop {hop} looked most at sentence")).to_have_count(1)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)

            question.blur()  # no focus ring in the screenshot
            wait_for_the_script(page)
            page.wait_for_timeout(500)  # let the tables finish drawing
            screenshot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
