"""Dashboard speed: cold start until the whole dashboard is usable in a browser, and the server time of a
page switch.

1. Cold start: from spawning ``streamlit run`` (a fresh server process each time) until, in Debian's
   chromium driven by Playwright, the dashboard is *usable*: the top navigation shows an entry for
   every section that has pages (the overview and each plugin's section), none of them disabled, and
   the sidebar's Train button is present and enabled. The baseline is a bare Streamlit page with one
   Plotly chart, timed to that chart; the two are measured alternately in this one run (goal:
   usable / bare <= 2). The time to our first chart (the greeting drawn while TensorFlow loads) is
   printed too.
2. Page switch: the dashboard trained for one epoch and every page visited once (results cached),
   then the server time of each further switch between pages, timed around ``AppTest.run()``
   (goal: under 300 ms).

    python bench/app.py [--repeats 3]

The last line is the headline; its first ratio is usable / bare.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "apps" / "main.py"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BARE_APP = """
import plotly.graph_objects as go
import streamlit as st

st.plotly_chart(go.Figure(go.Scatter(y=[1, 3, 2])))
"""
CHART = ".js-plotly-plot .plot-container"
# True once the navigation holds `sections` enabled entries (a section's menu, or a lone page's link)
# and the Train button (Streamlit's class st-key-train-go marks the widget with key "train.go") is enabled.
USABLE = """sections => {
    const nav = document.querySelector('[data-testid="stTopNav"]');
    const train = document.querySelector('.st-key-train-go button');
    if (!nav || !train || train.disabled || train.getAttribute('aria-disabled') === 'true') return false;
    const entries = [...nav.querySelectorAll(
        '[data-testid="stTopNavSection"], [data-testid="stTopNavLinkContainer"]')];
    return entries.length >= sections
        && entries.every(entry => entry.getAttribute('aria-disabled') !== 'true' && entry.offsetParent !== null);
}"""
TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cold_start(script: Path, browser, sections: int = 0) -> tuple[float, float]:
    """Seconds from spawning the server to the first chart in a fresh browser session, and until the
    dashboard is usable (see `USABLE`) with `sections` navigation entries (0: not waited for)."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    start = time.perf_counter()
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_health(port, server)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT_S * 1000)
        first_chart = time.perf_counter() - start
        if sections:
            page.wait_for_function(USABLE, arg=sections, timeout=TIMEOUT_S * 1000, polling=20)
        usable = time.perf_counter() - start
        context.close()
        return first_chart, usable
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for_health(port: int, server: subprocess.Popen) -> None:
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("streamlit did not start")


def navigation_sections() -> int:
    """How many sections the dashboard's navigation shows: the overview's and those of the plugins."""
    import dlviz
    from dlviz.plugin import SECTIONS

    used = {"Overview"}
    for info in dlviz.plugins().values():
        section = info.plugin.section if info.plugin is not None else "Other"
        used.add(section if section in SECTIONS else "Other")
    return len(used)


def cold_starts(repeats: int) -> tuple[list[float], list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    sections = navigation_sections()
    ours, ours_ready, bare = [], [], []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        bare_script = Path(scratch) / "bare.py"
        bare_script.write_text(BARE_APP)
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for round_number in range(repeats):
            bare.append(cold_start(bare_script, browser)[0])
            first_chart, usable = cold_start(MAIN, browser, sections)
            ours.append(first_chart)
            ours_ready.append(usable)
            print(
                f"  round {round_number + 1}: bare {bare[-1]:.2f} s; dlviz usable after {usable:.2f} s "
                f"({usable / bare[-1]:.2f}x), first chart after {first_chart:.2f} s",
                flush=True,
            )
        browser.close()
    return ours, ours_ready, bare


def page_switches(rounds: int) -> list[float]:
    """Server seconds per page switch, every page visited once before (cached results).

    Timed around ``AppTest.run()``, which also pays for Streamlit's garbage collection after each
    run (the app's config turns that off on a real server), so the numbers err on the slow side.
    """
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    import dlviz

    at = AppTest.from_file(str(MAIN), default_timeout=TIMEOUT_S).run()
    at.number_input(key="train.epochs").set_value(1)
    at.button(key="train.go").click().run()
    pages = ["overview", *(name for name, info in dlviz.plugins().items() if info.plugin is not None)]
    for name in pages:
        at._page_hash = calc_hash(name)  # st.Page callables are identified by hash(url_path)
        at.run()
    times = []
    for _ in range(rounds):
        for name in pages:
            at._page_hash = calc_hash(name)
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
            if at.exception:
                raise RuntimeError(f"page {name} raised: {at.exception[0].message}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold starts of each app, alternated")
    parser.add_argument("--rounds", type=int, default=3, help="passes over every page for the switch time")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if shutil.which("chromium") is None:
        sys.exit("bench/app.py needs Debian's chromium (apt-get install chromium)")

    print("cold start until usable (navigation and Train button) in the browser:", flush=True)
    ours, ours_ready, bare = cold_starts(args.repeats)
    ours_s, bare_s, ready_s = statistics.median(ours), statistics.median(bare), statistics.median(ours_ready)
    ratios = sorted(usable / base for usable, base in zip(ours_ready, bare, strict=True))
    usable_ratio = statistics.median(ratios)
    print(
        f"  median: dlviz usable after {ready_s:.2f} s, first chart after {ours_s:.2f} s; "
        f"bare Streamlit + one Plotly chart {bare_s:.2f} s"
    )
    print(f"  usable / bare per round: {', '.join(f'{ratio:.2f}x' for ratio in ratios)}")

    print("page switch with cached results (server time, AppTest):", flush=True)
    switches = page_switches(args.rounds)
    switch_ms, worst_ms = 1000 * statistics.median(switches), 1000 * max(switches)
    print(f"  {len(switches)} switches: median {switch_ms:.0f} ms, max {worst_ms:.0f} ms (goal < 300 ms)")
    print(
        f"dashboard cold start: usable {usable_ratio:.2f}x a bare Streamlit page with one Plotly chart "
        f"(median per-round ratio; dlviz usable after {ready_s:.1f} s, first chart {ours_s:.1f} s "
        f"({ours_s / bare_s:.2f}x), bare {bare_s:.1f} s; goal <= 2x); "
        f"cached page switch {switch_ms:.0f} ms median, {worst_ms:.0f} ms max (goal < 300 ms)"
    )

if __name__ == "__main__":
    main()
