"""Waits the user sees advance: the first build of the knowledge base, and a case's documents
being indexed after an upload (in the background: the page stays usable)."""

from __future__ import annotations

import streamlit as st

from assistant.service import words
from ui.state import lang, service


def knowledge_base() -> None:
    """Build the knowledge base on the first start, with a progress bar (once: nothing to do after)."""
    svc = service()
    if svc.knowledge_built():
        return
    with st.status(words("kb_building", lang(), done=0, total="…"), expanded=True) as status:
        bar = st.progress(0.0)

        def step(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=words("kb_building", lang(), done=done, total=total))

        svc.prepare_knowledge(step)
        status.update(label=words("kb_ready", lang()), state="complete", expanded=False)


@st.fragment(run_every=1.0)
def _indexing(case_id: str) -> None:
    job = service().indexing(case_id)
    if job is None:
        if st.session_state.pop(f"indexing:{case_id}", None):
            st.rerun()  # done: the whole page again, now citing the documents
        return
    st.session_state[f"indexing:{case_id}"] = True
    done, total = job
    st.progress(done / max(total, 1), text=words("indexing_documents", lang(), done=done, total=total or "…"))


def documents_indexing(case_id: str) -> None:
    """A progress bar while the case's documents are indexed in the background."""
    if service().indexing(case_id) is not None:
        _indexing(case_id)
