"""The one API the faces (the CLI, the app's pages) call.

`Service` is assembled from parts that share `ServiceBase` (the store, the knowledge base, a case
and its profile, the draft and findings of a case version, the one way to record a change):

- `cases.CaseOps`: a case from creation to export (answers, documents, waivers, check, export);
- `review.ReviewOps`: the reviewers' desk (versions, edits, diffs, comments, approvals, history);
- `letters.LetterOps`: the clinician's urgency letter and its links;
- `with_model.ModelOps`: the language model's settings and its help in the interview (proposals,
  follow-ups); `model_drafts.ModelDraftOps`: its drafts, checked and kept as versions;
- `library.KnowledgeOps`: search and the corpus;
- `people.PeopleOps`: roles, what each may open, the team's accounts;
- `telling.TellOps`: "tell it once": the facts a description and the documents state, on one card.

The types the faces display are re-exported here, so a face imports `assistant.service` only.
"""

from assistant.case.model import ROLES, Case, Citation, Event, EvidenceFile
from assistant.case.profile import Lang, Profile, Question, Section
from assistant.documents.letter import LetterField
from assistant.documents.pdf import Block, Run
from assistant.drafting.model import Draft, Paragraph, SectionDraft
from assistant.drafting.revisions import Version
from assistant.drafting.spans import render_text
from assistant.errors import AssistantError, ConflictError, Forbidden, NotFound, ServiceError
from assistant.gate.finding import Finding
from assistant.gate.readiness import Readiness, SectionState
from assistant.interview.assisted import FactProposal, Followup
from assistant.interview.documents import Proposal
from assistant.interview.engine import Prompt
from assistant.interview.telling import Told
from assistant.service.accounts import User
from assistant.service.base import Actor, Attached, CaseSummary, ExportBlocked, ExportFormat
from assistant.service.cases import CaseOps
from assistant.service.letters import LetterOps, LetterStatus
from assistant.service.library import KnowledgeOps
from assistant.service.model_drafts import DraftEvent, DraftOutcome, ModelDraftOps
from assistant.service.people import PeopleOps
from assistant.service.review import ReviewOps
from assistant.service.routes import RouteOps, RouteResult
from assistant.service.telling import TellOps
from assistant.service.with_model import AfterAnswer, ConfirmResult
from assistant.words import t as words


class Service(TellOps, ModelDraftOps, LetterOps, ReviewOps, KnowledgeOps, PeopleOps, RouteOps, CaseOps):
    """Every operation a user performs, on one store (and knowledge base)."""


__all__ = [
    "ROLES", "Actor", "AfterAnswer", "AssistantError", "Attached", "Block", "Case", "CaseSummary", "Citation",
    "ConfirmResult", "ConflictError", "Draft", "DraftEvent", "DraftOutcome", "Event", "EvidenceFile",
    "ExportBlocked", "ExportFormat", "FactProposal", "Finding", "Followup", "Forbidden", "Lang", "LetterField",
    "LetterStatus", "NotFound", "Paragraph", "Profile", "Prompt", "Proposal", "Question", "Readiness", "RouteResult",
    "Run", "Section", "SectionDraft", "SectionState", "Service", "ServiceError", "Told", "User", "Version", "render_text",
    "words",
]
