"""The dashboard as a newcomer meets it: default page, training, language, independent sessions."""

from __future__ import annotations

import pytest
from dashboard_helpers import assert_no_exception, chart_specs, new_app, open_page, texts, train, workspace
from streamlit.testing.v1 import AppTest

from dlviz import datasets
from dlviz.i18n import t


def test_default_page_renders_the_welcome_and_a_chart():
    at = new_app().run()
    assert_no_exception(at)
    assert texts(at.title) == [t("overview.heading", "en")]
    assert any("Welcome!" in text for text in texts(at.markdown))
    ws = workspace(at)
    assert ws.dataset.name == "digits" and ws.model is not None and ws.trained_epochs == 0
    assert chart_specs(at), "the overview shows the data before any training"
    assert not at.error


@pytest.mark.slow
def test_training_the_default_model_records_a_run_every_page_shows():
    at = train(new_app().run(), epochs=1)
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    assert any("Training finished" in text for text in texts(at.success))
    ws = workspace(at)
    assert ws.trained_epochs == 1 and ws.current_run in ws.runs
    run = ws.runs[ws.current_run].run
    assert len(run.epochs["epoch"]) == 1 and len(run.record_steps) > 0
    curves = [trace for spec in chart_specs(at) for trace in spec["data"] if trace.get("name") == "validation"]
    assert curves, "the overview draws the training curves"
    assert at.selectbox(key="runs.current").value == ws.current_run

    open_page(at, "model_summary").run()
    assert_no_exception(at)
    assert workspace(at).current_run == ws.current_run, "the run stays selected across pages"


def test_switching_language_changes_the_text_and_the_navigation():
    at = new_app().run()
    english = texts(at.title)
    at.segmented_control(key="language").set_value("zh").run()
    assert_no_exception(at)
    assert texts(at.title) == [t("overview.heading", "zh")] != english
    assert any("欢迎" in text for text in texts(at.markdown))
    assert at.button(key="train.go").label == t("train.button", "zh")
    open_page(at, "model_summary").run()
    assert texts(at.title) == ["模型结构"]
    at.segmented_control(key="language").set_value("en").run()
    assert texts(at.title) == ["Model summary"]


def test_the_sidebar_describes_the_dataset_in_the_ui_language():
    at = new_app().run()
    digits = datasets.load("digits")
    assert digits.description in texts(at.sidebar.caption)
    at.segmented_control(key="language").set_value("zh").run()
    assert_no_exception(at)
    captions = texts(at.sidebar.caption)
    assert digits.description_zh in captions and digits.description not in captions
    at.selectbox(key="data.name").set_value("moons").run()
    assert_no_exception(at)
    assert datasets.load("moons").description_zh in texts(at.sidebar.caption)


@pytest.mark.slow
def test_two_sessions_do_not_share_training_or_language():
    first, second = new_app().run(), new_app().run()
    first.segmented_control(key="language").set_value("zh").run()
    train(first, epochs=1)
    second.run()
    assert workspace(first).runs and not workspace(second).runs
    assert workspace(first).model is not workspace(second).model
    assert texts(second.title) == [t("overview.heading", "en")]


def _first_paint_script():
    import streamlit as st

    from apps import pages

    pages.first_paint(st.empty(), "zh")


def test_the_first_paint_of_a_cold_server_greets_with_the_data():
    at = AppTest.from_function(_first_paint_script).run()
    assert_no_exception(at)
    assert texts(at.title) == [t("overview.heading", "zh")]
    assert chart_specs(at)[0]["layout"]["title"]["text"] == t("preview.images_title", "zh")
