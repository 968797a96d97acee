"""A classroom on one server: N browser sessions (Debian's chromium) each change the model and train.

One dashboard server, N pages in one chromium (their own sessions), half of them switched to Chinese.
Each page picks the MLP (the digits default is a CNN) and sets 2 epochs; once every page is ready
they all click Train together, as a class does when the teacher says "now train" (clicks spread
over the page loads barely overlap, and then there is no line to measure). The time from a page's
click to its "Training finished" is that student's wait. One page opened and closed first makes the
server import TensorFlow and the plugins: its memory then is the baseline. The same is run on fresh
servers with the training queue (``max_concurrent_trainings`` at its default, the CPU cores) and
with it switched off (as many slots as sessions: all at once, as before the queue), after one
session alone. The browser runs at a lower priority (BROWSER_NICENESS): in a class each student's
browser has a computer of its own, here they all share the server's cores.

Printed: per session, whether it kept its own language and model and showed no exception, and its
wait; the mean and the slowest wait, queue against no queue (goals: mean <= 0.6x, slowest <= 1.1x);
the wall time against one session alone; the server's memory (RSS) before the sessions, at peak and
after every page closed and the server ended their sessions (goal: back within 20% of before); the
CPU seconds the server and the browser used, to tell which of them the machine's cores went to.

    python bench/classroom.py [--sessions 8]

The last line is the headline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlviz.i18n import t  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
TRAIN_TIMEOUT_MS = 900_000
OPTION_TIMEOUT_MS = 20_000
MODEL_LABEL = "mlp · relu · adam"
RELEASE_WAIT_S = 60  # the server ends a session 30 s after its tab closed, checking every 5 s
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# In a class every student's browser runs on their own computer; here all of them share the server's
# cores, so they run at a lower priority to leave the server the CPU it would have (their CPU use is
# printed).
BROWSER_NICENESS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def descendants(root: int) -> list[int]:
    """Every process below `root` (the browser's are below this one, through Playwright's driver)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def browser_executable(folder: Path) -> str:
    """Debian's chromium, started through a wrapper that lowers its priority (BROWSER_NICENESS)."""
    wrapper = folder / "chromium-niced"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {BROWSER_NICENESS} {shutil.which("chromium")} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """``streamlit run apps/main.py`` with a settings file, and a thread sampling its peak memory."""

    def __init__(self, slots: int | None, folder: Path):
        settings = folder / f"dlviz-{slots}.toml"
        settings.write_text("" if slots is None else f"[dlviz]\nmax_concurrent_trainings = {slots}\n")
        self.port = free_port()
        command = [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "apps" / "main.py"),
            "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(self.port),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ]  # fmt: skip
        env = {**os.environ, "DLVIZ_SETTINGS": str(settings)}
        self.log = open(folder / f"server-{slots}.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        self.peak = 0.0
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def _sample(self) -> None:
        while self._sampling and self.process.poll() is None:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.2)

    def stop(self) -> None:
        self._sampling = False
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


async def idle(page) -> None:
    app = page.locator('[data-testid="stApp"]')
    await app.wait_for(timeout=300_000)
    quiet = None
    while True:
        if await app.get_attribute("data-test-script-state") == "notRunning":
            quiet = quiet or time.monotonic()
            if time.monotonic() - quiet >= 1.0:
                return
        else:
            quiet = None
        await page.wait_for_timeout(100)


async def pick(page, selectbox, option: str, tries: int = 4) -> None:
    """Choose `option` in a select box, opening the list again when a rerun closed it (as a person would)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    search = selectbox.get_by_role("combobox")
    for attempt in range(tries):
        await search.click()
        await search.press_sequentially(option[:3], delay=50)
        try:
            await page.get_by_role("option", name=option, exact=True).click(timeout=OPTION_TIMEOUT_MS)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            await page.keyboard.press("Escape")
            await idle(page)


async def student(browser, url: str, language: str, ready: asyncio.Barrier) -> dict:
    """One session: open, switch language, pick the MLP, 2 epochs, train with the others; its wait and
    what it showed."""
    page = await browser.new_page(viewport={"width": 1280, "height": 1400})
    page.set_default_timeout(300_000)
    await page.goto(url)
    await idle(page)
    if language == "zh":
        await page.get_by_text(t("language.name", "zh"), exact=True).click()
        await page.get_by_text(t("sidebar.language", "zh"), exact=True).wait_for()
        await idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    await sidebar.locator("summary", has_text=t("sidebar.model", language)).first.click()
    kind = sidebar.locator('[data-testid="stSelectbox"]').filter(has_text=t("model.kind", language)).first
    await pick(page, kind, t("model.kind.mlp", language))
    await idle(page)
    epochs = sidebar.get_by_label(t("train.epochs", language))
    await epochs.fill("2")
    await epochs.press("Enter")
    await idle(page)
    await ready.wait()
    clicked = time.monotonic()
    await page.get_by_role("button", name=t("train.button", language), exact=True).click()
    finished = t("train.done", language, label="\0").split("\0")[0]
    await page.get_by_text(re.compile(re.escape(finished))).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    waited = time.monotonic() - clicked
    await idle(page)
    run_label = t("runs.label.trained", language, number=1, model=MODEL_LABEL, epochs=2)
    own_model = await page.get_by_text(t("train.done", language, label=run_label)).count() > 0
    own_language = await page.get_by_text(t("sidebar.language", language), exact=True).count() > 0
    exceptions = await page.locator('[data-testid="stException"]').count()
    return {
        "page": page,
        "language": language,
        "wait": waited,
        "checks": {"own language": own_language, "own model": own_model, "no exception": exceptions == 0},
    }


async def warm_up(url: str, executable: str) -> None:
    """One page opened and closed: the server imports TensorFlow and the plugins (the memory baseline)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.goto(url)
        await idle(page)
        await browser.close()


async def classroom(
    url: str, sessions: int, server_pid: int, executable: str
) -> tuple[list[dict], float, float]:
    """The students' results, the wall time from the first page opened to the last training
    finished, and the CPU seconds the browser used meanwhile."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        browser_pids = [pid for pid in descendants(os.getpid()) if pid != server_pid]
        browser_cpu = sum(cpu_s(pid) for pid in browser_pids)
        started = time.monotonic()
        ready = asyncio.Barrier(sessions)
        results = await asyncio.gather(
            *(student(browser, url, "zh" if number % 2 else "en", ready) for number in range(sessions))
        )
        wall = time.monotonic() - started
        browser_pids = [pid for pid in descendants(os.getpid()) if pid != server_pid]
        browser_cpu = sum(cpu_s(pid) for pid in browser_pids) - browser_cpu
        for result in results:
            await result.pop("page").close()
        await browser.close()
    return results, wall, browser_cpu


def measure(slots: int | None, sessions: int, folder: Path, release_wait_s: float = 0.0) -> dict:
    server = Server(slots, folder)
    try:
        executable = browser_executable(folder)
        asyncio.run(warm_up(server.url, executable))
        before = server.rss()
        server_cpu = cpu_s(server.process.pid)
        results, wall, browser_cpu = asyncio.run(
            classroom(server.url, sessions, server.process.pid, executable)
        )
        server_cpu = cpu_s(server.process.pid) - server_cpu
        after = float("nan")
        if release_wait_s:
            time.sleep(release_wait_s)
            after = server.rss()
        return {
            "results": results,
            "wall": wall,
            "before": before,
            "peak": server.peak,
            "after": after,
            "server_cpu": server_cpu,
            "browser_cpu": browser_cpu,
        }
    finally:
        server.stop()


def correct(result: dict) -> bool:
    return all(result["checks"].values())


def report(name: str, measured: dict) -> None:
    for number, result in enumerate(measured["results"], start=1):
        failed = [check for check, passed in result["checks"].items() if not passed]
        verdict = "ok" if not failed else "WRONG: not " + ", not ".join(failed)
        print(f"  {name}, session {number} ({result['language']}): {verdict}; waited {result['wait']:.1f} s")
    waits = [result["wait"] for result in measured["results"]]
    print(
        f"{name}: {sum(map(correct, measured['results']))}/{len(waits)} sessions kept their language and model "
        f"with no exception; wait mean {statistics.mean(waits):.1f} s, slowest {max(waits):.1f} s, "
        f"wall {measured['wall']:.1f} s; CPU: server {measured['server_cpu']:.0f} s, "
        f"browser {measured['browser_cpu']:.0f} s; server memory {measured['before']:.0f} MB before, "
        f"{measured['peak']:.0f} MB peak, {measured['after']:.0f} MB after the sessions closed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument(
        "--release-wait", type=float, default=RELEASE_WAIT_S, help="seconds to wait for closed sessions to go"
    )
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        sys.exit("Debian's chromium is needed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="dlviz-classroom-") as name:
        folder = Path(name)
        alone = measure(None, 1, folder)
        report("one session alone", alone)
        queued = measure(None, args.sessions, folder, args.release_wait)
        report(f"{args.sessions} sessions, queue", queued)
        all_at_once = measure(args.sessions, args.sessions, folder)
        report(f"{args.sessions} sessions, all at once", all_at_once)
    mean_ratio = statistics.mean(r["wait"] for r in queued["results"]) / statistics.mean(
        r["wait"] for r in all_at_once["results"]
    )
    slowest_ratio = max(r["wait"] for r in queued["results"]) / max(r["wait"] for r in all_at_once["results"])
    wall_ratio = queued["wall"] / alone["wall"]
    memory_back = queued["after"] / queued["before"]
    right = sum(map(correct, queued["results"] + all_at_once["results"]))
    print(
        f"classroom: {mean_ratio:.2f}x mean wait with the queue against all at once (goal <= 0.6x), "
        f"slowest {slowest_ratio:.2f}x (goal <= 1.1x), wall {wall_ratio:.1f}x one session alone, "
        f"memory after/before {memory_back:.2f} (goal <= 1.2), {right}/{2 * args.sessions} sessions correct, "
        f"{args.sessions} sessions"
    )


if __name__ == "__main__":
    main()
