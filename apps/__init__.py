"""The dlviz dashboard (Streamlit): `apps/main.py` composes the registered plugins into pages."""
