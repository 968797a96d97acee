"""The teacher's settings for one dashboard server, read once at start and shown on "About this server".

They live in ``.streamlit/dlviz.toml`` beside Streamlit's own ``.streamlit/config.toml`` (Streamlit
warns about every option of a section it does not know, so they cannot go into its file), or in the
file that ``$DLVIZ_SETTINGS`` names::

    [dlviz]
    max_concurrent_trainings = 2   # trainings running at once (default: CPU cores, or 1 per GPU)
    session_idle_minutes = 60      # a session idle this long is released
    max_epochs = 100               # most epochs one training may ask for
    max_upload_mb = 50             # largest dataset, model or run a student may upload

A value that is missing takes its default; one that is not a positive whole number is ignored, and
the panel says so, so a typo never keeps the server from starting.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import streamlit as st

from dlviz.i18n import t
from dlviz.plugin import tr

SETTINGS_ENV = "DLVIZ_SETTINGS"
DEFAULT_PATH = Path(".streamlit") / "dlviz.toml"
SECTION = "dlviz"


def default_trainings() -> int:
    """One training per GPU when there are GPUs (they share nothing well), else one per CPU core."""
    import tensorflow as tf

    gpus = len(tf.config.list_physical_devices("GPU"))
    return gpus if gpus else cpu_cores()


def cpu_cores(cgroup: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPU cores this server may use: those it may run on, fewer when a container's CPU quota
    (cgroup v2 ``cpu.max``) allows less; a container often sees every core of its host in os.cpu_count().

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     quota = Path(folder) / "cpu.max"
    ...     _ = quota.write_text("50000 100000")  # half a core
    ...     cpu_cores(quota)
    1
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cgroup.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # no cgroup v2 quota here: every core it may run on counts
        pass
    return max(cores, 1)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the teacher set (or the defaults), where it was read from, and what was ignored and why."""

    max_concurrent_trainings: int
    session_idle_minutes: int = 60
    max_epochs: int = 500
    max_upload_mb: int = 200
    source: Path | None = None
    problems: tuple[tuple[str, str], ...] = ()  # (English, Chinese)

    def values(self) -> dict[str, int]:
        """The four settings by name, in the order the panel shows them."""
        return {name: getattr(self, name) for name in NAMES}


NAMES = ("max_concurrent_trainings", "session_idle_minutes", "max_epochs", "max_upload_mb")


def settings_path() -> Path:
    """The settings file this server reads: $DLVIZ_SETTINGS, else .streamlit/dlviz.toml here."""
    chosen = os.environ.get(SETTINGS_ENV)
    return Path(chosen).expanduser() if chosen else DEFAULT_PATH


def read(path: Path | None = None) -> Settings:
    """The settings in `path` (default `settings_path()`); a missing file gives the defaults."""
    path = settings_path() if path is None else path
    values: dict[str, Any] = {"max_concurrent_trainings": default_trainings()}
    if not path.is_file():
        return Settings(**values)
    problems = []
    try:
        section = tomllib.loads(path.read_text(encoding="utf-8")).get(SECTION, {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problem = (
            f"{path} cannot be read ({exc}); defaults apply.",
            f"无法读取 {path}（{exc}）：使用默认值。",
        )
        return Settings(**values, source=path, problems=(problem,))
    for name, value in section.items():
        if name not in NAMES:
            problems.append(
                (
                    f"{name} is not a setting (the settings are {', '.join(NAMES)}).",
                    f"{name} 不是设置项（设置项有 {', '.join(NAMES)}）。",
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(
                (
                    f"{name} = {value!r} is not a positive whole number; the default applies.",
                    f"{name} = {value!r} 不是正整数：使用默认值。",
                )
            )
        else:
            values[name] = value
    return Settings(**values, source=path, problems=tuple(problems))


@functools.cache
def current() -> Settings:
    """This server's settings, read on first use (once per process)."""
    return read()


def about(language: str, settings: Settings | None = None) -> None:
    """The "About this server" panel: each setting, where it came from, what was ignored, the device."""
    from dlviz import device

    settings = settings or current()
    for name, value in settings.values().items():
        st.markdown(f"{t(f'server.{name}', language)}: **{value}**")
    if settings.source is None:
        st.caption(t("server.defaults", language, path=str(settings_path())))
    else:
        st.caption(t("server.read_from", language, path=str(settings.source)))
    for english, chinese in settings.problems:
        st.warning(tr(language, english, chinese), icon=":material/warning:")
    st.caption(t("server.device", language, device=str(device.describe())))
