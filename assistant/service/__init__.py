"""The one API the faces (the CLI, the app's pages) call.

`Service` is assembled from parts that share `ServiceBase` (the store, the knowledge base, a case
and its profile, the draft of a case version, the one way to record a change):

- `cases.CaseOps`: a case from creation to export (answers, documents, waivers, check, export);
- `review.ReviewOps`: the reviewers' desk (versions, edits, diffs, comments, approvals, history);
- `letters.LetterOps`: the clinician's urgency letter and its links;
- `with_model.ModelOps`: what a language model adds (drafts, proposals, follow-ups, settings);
- `library.KnowledgeOps`: search and the corpus.

The types the faces display are re-exported here, so a face imports `assistant.service` only.
"""

from assistant.errors import ConflictError, Forbidden, NotFound, ServiceError
from assistant.service.base import Actor, Attached, CaseSummary, ExportBlocked, ExportFormat
from assistant.service.cases import CaseOps
from assistant.service.letters import LetterOps
from assistant.service.library import KnowledgeOps
from assistant.service.review import ReviewOps
from assistant.service.with_model import AfterAnswer, ConfirmResult, DraftEvent, DraftOutcome, ModelOps


class Service(ModelOps, LetterOps, ReviewOps, KnowledgeOps, CaseOps):
    """Every operation a user performs, on one store (and knowledge base)."""


__all__ = [
    "Actor", "AfterAnswer", "Attached", "CaseSummary", "ConfirmResult", "ConflictError", "DraftEvent",
    "DraftOutcome", "ExportBlocked", "ExportFormat", "Forbidden", "NotFound", "Service", "ServiceError",
]
