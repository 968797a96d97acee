"""The dlviz dashboard (a first page until the full dashboard lands): the registered plugins."""

import streamlit as st

import dlviz

st.set_page_config(page_title="dlviz", layout="wide")
st.title("dlviz")
st.write("See deep learning: what happens inside a Keras model while it trains, and why it predicts what it does.")
for name, info in dlviz.plugins().items():
    if info.plugin is None:
        st.error(f"{name}: failed to load ({info.error})")
    else:
        st.subheader(info.plugin.title)
        st.caption(info.plugin.description)
