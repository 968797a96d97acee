"""The teacher's settings: read from .streamlit/dlviz.toml (or $DLVIZ_SETTINGS), applied, shown on the About panel."""

from __future__ import annotations

import pytest
from dashboard_helpers import assert_no_exception, new_app, texts

from apps import settings
from dlviz.i18n import t


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    """Write a settings file, point $DLVIZ_SETTINGS at it and forget the settings read so far."""

    def write(text: str):
        path = tmp_path / "dlviz.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv(settings.SETTINGS_ENV, str(path))
        settings.current.cache_clear()
        return path

    yield write
    settings.current.cache_clear()


def test_without_a_file_the_defaults_apply(tmp_path):
    read = settings.read(tmp_path / "missing.toml")
    assert read.values() == {
        "max_concurrent_trainings": settings.cpu_cores(),  # no GPU on the test machine
        "session_idle_minutes": 60,
        "max_epochs": 500,
        "max_upload_mb": 200,
    }
    assert read.source is None and read.problems == ()


def test_values_are_read_and_bad_ones_are_ignored_with_a_reason_in_both_languages(settings_file):
    path = settings_file(
        "[dlviz]\nmax_concurrent_trainings = 2\nmax_epochs = 0\nmax_upload_mb = 'big'\nmax_epoch = 9\n"
        "session_idle_minutes = 15\n"
    )
    read = settings.read()
    assert read.source == path
    assert (read.max_concurrent_trainings, read.session_idle_minutes) == (2, 15)
    assert (read.max_epochs, read.max_upload_mb) == (500, 200), "refused values keep the default"
    english = [problem[0] for problem in read.problems]
    assert any("max_epochs = 0" in text for text in english)
    assert any("max_upload_mb = 'big'" in text for text in english)
    assert any("max_epoch is not a setting" in text for text in english)
    assert all(chinese and chinese != english_text for english_text, chinese in read.problems)


def test_a_broken_file_gives_the_defaults_and_says_why(settings_file):
    settings_file("[dlviz\nmax_epochs = 3\n")
    read = settings.read()
    assert read.max_epochs == 500 and len(read.problems) == 1 and "cannot be read" in read.problems[0][0]


def test_the_dashboard_applies_the_settings_and_shows_them_on_the_about_panel(settings_file):
    path = settings_file("[dlviz]\nmax_epochs = 7\nmax_upload_mb = 3\n")
    at = new_app().run()
    assert_no_exception(at)
    assert at.number_input(key="train.epochs").proto.max == 7
    shown = texts(at.sidebar.markdown)
    assert f"{t('server.max_epochs', 'en')}: **7**" in shown
    assert f"{t('server.max_upload_mb', 'en')}: **3**" in shown
    assert t("server.read_from", "en", path=str(path)) in texts(at.sidebar.caption)
    uploads = [element.proto.max_upload_size_mb for element in at.get("file_uploader")]
    assert uploads and set(uploads) == {3}
    at.segmented_control(key="language").set_value("zh").run()
    assert f"{t('server.max_epochs', 'zh')}: **7**" in texts(at.sidebar.markdown)
