"""The Streamlit app: a thin layer over `assistant.service` (no business logic here)."""
