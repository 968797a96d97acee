"""First visit to every plugin page: the time until it shows its first figure, and until it is complete,
each against one training epoch of the default model.

Through AppTest (the dashboard's script, run in this process): a first session trains the default model
(digits, the small CNN) for one epoch to warm the process up, as a running server is; a second one does
the same, timed from the click to the finished run: the baseline, what a student waits for one epoch. A
third, fresh session trains for two epochs in one training, then opens every registered plugin's page
once, each a first visit (nothing cached yet), timed from the start of the run to the first figure the
page draws (a partial result's, for pages that report them) and to its end (the page's own record,
`apps.pages.TIMING_KEY`). A fourth session then opens the pages whose result is shared by all sessions
(`Plugin.shared_result_key`): the next student's first visit.

    python bench/pages.py [--repeats 1]

With repeats, every cache is cleared between rounds and medians are printed. The last line is the
headline: the slowest page's time to its first figure against an epoch (goal: <= 1x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.util import calc_hash  # noqa: E402

import dlviz  # noqa: E402
from apps.pages import TIMING_KEY  # noqa: E402

MAIN = ROOT / "apps" / "main.py"
TIMEOUT_S = 600
WORKSPACE_KEY = "dlviz.workspace"


def new_session() -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=TIMEOUT_S).run()
    failed(at, "the dashboard")
    return at


def failed(at: AppTest, what: str) -> None:
    if at.exception:
        raise RuntimeError(f"{what} raised: {at.exception[0].message}")


def train(at: AppTest, epochs: int) -> float:
    """Seconds from clicking 'train' to the end of the run that trained `epochs` epochs."""
    before = at.session_state[WORKSPACE_KEY].trained_epochs
    at.number_input(key="train.epochs").set_value(epochs)
    start = time.perf_counter()
    at.button(key="train.go").click().run()
    while at.session_state[WORKSPACE_KEY].trained_epochs < before + epochs:
        if time.perf_counter() - start > TIMEOUT_S:
            raise RuntimeError("the training did not finish")
        time.sleep(0.05)  # a dashboard that trains in the background: look again, as the page would
        at.run()
    failed(at, "training")
    return time.perf_counter() - start


def visit(at: AppTest, name: str) -> dict:
    """Open page `name` once: seconds to its first figure (None if it drew none) and to its end."""
    at._page_hash = calc_hash(name)  # st.Page callables are identified by the hash of their url_path
    start = time.perf_counter()
    at.run()
    end = time.perf_counter()
    failed(at, f"page {name}")
    record = at.session_state[TIMING_KEY] if TIMING_KEY in at.session_state else None
    if record is None or record["page"] != name or record["started"] < start:
        return {"first": None, "complete": end - start, "reason": _refusal(at)}
    first = record["first_figure"]
    return {"first": None if first is None else first - start, "complete": end - start, "reason": ""}


def _refusal(at: AppTest) -> str:
    shown = [str(element.value) for element in (*at.info, *at.error)]
    return shown[-1].split("\n")[0][:60] if shown else "no figure"


def shared_pages(at: AppTest, names: list[str]) -> list[str]:
    """The pages whose result (at its defaults, in this session) every session shares."""
    from apps import compute

    ws = at.session_state[WORKSPACE_KEY]
    ctx = compute.context(ws, "en")
    shared = []
    for name in names:
        plugin = dlviz.get_plugin(name)
        try:
            if (
                plugin.is_compatible(ctx) is True
                and plugin.shared_result_key(ctx, plugin.Params()) is not None
            ):
                shared.append(name)
        except Exception:  # a page that cannot tell is measured as a page of its own session
            continue
    return shared


def one_round(names: list[str]) -> tuple[float, dict, dict]:
    st.cache_data.clear()
    warm_up = train(new_session(), epochs=1)
    epoch = train(new_session(), epochs=1)
    print(
        f"  one epoch of the default model through AppTest: {epoch:.2f} s (warm-up {warm_up:.2f} s)",
        flush=True,
    )
    student = new_session()
    trained = train(student, epochs=2)
    print(f"  a second session's training of 2 epochs: {trained:.2f} s", flush=True)
    visits = {}
    for name in names:
        visits[name] = visit(student, name)
        shown = visits[name]
        first = "no figure" if shown["first"] is None else f"first figure {shown['first']:.2f} s"
        print(f"    {name}: {first}, complete {shown['complete']:.2f} s {shown['reason']}", flush=True)
    next_student = new_session()
    again = {name: visit(next_student, name) for name in shared_pages(next_student, names)}
    return epoch, visits, again


def median(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="rounds, each with every cache cleared")
    args = parser.parse_args()
    names = [name for name, info in dlviz.plugins().items() if info.plugin is not None]
    rounds = []
    for number in range(args.repeats):
        print(f"round {number + 1}:", flush=True)
        rounds.append(one_round(names))
    epoch = statistics.median(epoch for epoch, _, _ in rounds)
    table = []
    for name in names:
        first = median([visits[name]["first"] for _, visits, _ in rounds])
        complete = median([visits[name]["complete"] for _, visits, _ in rounds])
        again = median([shared[name]["first"] for _, _, shared in rounds if name in shared])
        table.append((name, first, complete, again, rounds[-1][1][name]["reason"]))

    def cell(seconds: float | None) -> str:
        return "—" if seconds is None else f"{seconds:.1f} s ({seconds / epoch:.2f}x)"

    print(f"\nfirst visit of each page after a training of 2 epochs (epoch {epoch:.2f} s, x = epochs):")
    print("| page | first figure | complete | next session's first figure |")
    print("| --- | --- | --- | --- |")
    for name, first, complete, again, reason in sorted(table, key=lambda row: -(row[1] or 0)):
        shown = cell(first) if first is not None else f"— ({reason})"
        print(f"| {name} | {shown} | {cell(complete)} | {cell(again) if again is not None else '—'} |")
    drawn = [(first, name) for name, first, *_ in table if first is not None]
    slowest_first, slowest = max(drawn)
    slowest_complete, slowest_done = max((complete, name) for name, _, complete, *_ in table)
    print(
        f"pages first figure: {slowest_first / epoch:.2f}x an epoch (slowest: {slowest} {slowest_first:.1f} s; "
        f"epoch {epoch:.1f} s; goal <= 1x); slowest complete: {slowest_done} {slowest_complete:.1f} s "
        f"({slowest_complete / epoch:.2f}x)"
    )


if __name__ == "__main__":
    main()
