"""The live page in a real browser (playwright driving Debian's chromium): it loads, its banner
and trend update during a replay, and a phase button press lands in the session's events.

chromium is installed by ``make test`` (``.ci/install_chromium.sh``); the test skips only when
it could not be installed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from hfs_emg.pipeline.live_page import LivePage
from hfs_emg.pipeline.monitor import LiveMonitor

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example_data" / "lsr_session.edf"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason="chromium could not be installed (no apt-get)"
)


def _banner(page) -> str:
    # Bokeh 3 renders each widget in a shadow root
    return page.locator(".hfs-banner").evaluate(
        "e => (e.shadowRoot ? e.shadowRoot.textContent : '') + e.textContent"
    )


def _wait(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_page_updates_and_phase_button_lands_in_events(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    mon = LiveMonitor(tmp_path / "session", replay=EXAMPLE, speed=5.0)
    page = LivePage(mon, port=0).start()
    shots = Path(os.environ.get("HFS_EMG_SCREENSHOTS", tmp_path))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                tab = browser.new_page(viewport={"width": 1150, "height": 720})
                tab.goto(page.url)
                tab.wait_for_selector(".hfs-banner", state="attached", timeout=15000)
                first = _banner(tab)
                assert "waiting for stimuli" in first or "connecting" in first
                mon.start()
                assert _wait(lambda: "LSR persisted" in _banner(tab), 20), _banner(tab)
                n_seen = mon.n_stim
                tab.get_by_role("button", name="decompression").click()
                assert _wait(
                    lambda: (
                        "decompression"
                        in pd.read_csv(tmp_path / "session" / "events.csv")["label"].tolist()
                    ),
                    5,
                )
                # the banner follows the session: disappearance at the example's stimulus 70
                assert _wait(lambda: "LSR disappeared at stimulus 7" in _banner(tab), 25)
                assert mon.n_stim > n_seen
                tab.screenshot(path=str(shots / "live_page.png"))
                text = _banner(tab)
                assert "after decompression" in text  # the loss follows the button press
            finally:
                browser.close()
    finally:
        mon.stop()
        page.stop()
    ev = pd.read_csv(tmp_path / "session" / "events.csv")
    phase = ev[ev["kind"] == "phase"]
    assert phase["label"].tolist() == ["decompression"]
    # the page drew at least once per sweep: one drawn version per measured batch or more
    assert len(page.shown_versions) >= 10
