"""What the HTTP service reads and answers, as FastAPI validates and documents them.

Requests are pydantic models (``DocumentIn``, ``BatchIn``). A verdict's answer model is the
gate's own :class:`~dedup.gate.verdict.Verdict` dataclass: the routes return its ``to_dict()``
(the JSON the CLI prints) and FastAPI checks, documents and serialises that against the
dataclass as it would a pydantic model, so a field added to ``Verdict`` appears in the answers
and in ``/openapi.json`` without a change here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    StrictStr,
    Tag,
    field_validator,
)

from .verdict import Verdict

MAX_ID_CHARS = 4096


# --- requests ------------------------------------------------------------------------------------


def _utf8(value: str, name: str) -> str:
    """Reject lone surrogates (JSON ``\\ud800``): the text could never be stored as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{name} holds an unpaired surrogate escape (like \\ud800): not valid Unicode text"
        ) from None
    return value


class DocumentIn(BaseModel):
    """One article to check or add."""

    model_config = ConfigDict(extra="ignore")

    id: StrictStr | StrictInt = Field(
        description="Document id (a string; an integer is read as its decimal string)"
    )
    text: StrictStr = Field(description="Article text (UTF-8); offsets in verdicts refer to it")
    title: StrictStr | StrictInt | None = None
    url: StrictStr | StrictInt | None = None
    date: StrictStr | StrictInt | None = None
    source: StrictStr | StrictInt | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | int) -> str:
        text = _utf8(str(value), "id")
        if not text.strip():
            raise ValueError("id is empty: the gate needs one to answer about the document")
        if len(text) > MAX_ID_CHARS:
            raise ValueError(f"id is {len(text):,} characters long, over {MAX_ID_CHARS:,}")
        return text

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty (only white space)")
        return _utf8(value, "text")

    @field_validator("title", "url", "date", "source")
    @classmethod
    def _meta(cls, value: str | int | None) -> str | None:
        return None if value is None else _utf8(str(value), "a metadata field")

    def record(self) -> dict[str, Any]:
        """The document as the gate's input record."""
        return self.model_dump(exclude_none=True)


class BatchIn(BaseModel):
    """Several articles, answered in order."""

    documents: list[DocumentIn]


def _body_kind(value: Any) -> str:
    """Which shape a body is: a batch when it has ``documents``, otherwise one document."""
    return "batch" if isinstance(value, dict) and "documents" in value else "document"


Body = Annotated[
    Annotated[DocumentIn, Tag("document")] | Annotated[BatchIn, Tag("batch")],
    Discriminator(_body_kind),
]


# --- answers -------------------------------------------------------------------------------------


class _Out(BaseModel):
    # Keys the gate adds to a stored record or to its stats pass through instead of being
    # dropped (these answers are the gate's dicts, not dataclasses).
    model_config = ConfigDict(extra="allow")


class ItemErrorOut(_Out):
    """A document of a batch the gate refused (the others were answered)."""

    id: str
    error: str
    detail: str
    status_code: int


class VerdictsOut(_Out):
    """The answers for a batch, in request order; ``errors`` counts refused documents."""

    verdicts: list[Verdict | ItemErrorOut]
    errors: int


# The answer of /check and POST /documents: one verdict, or a batch's.
VerdictAnswer = Verdict | VerdictsOut


class RecordOut(_Out):
    """A stored document."""

    id: str
    text: str
    removed: list[list[int]]
    title: str | None = None
    url: str | None = None
    date: str | None = None
    source: str | None = None
    credits: list[str] = []


class StatsOut(_Out):
    """The index: document count, location and parameters."""

    documents: int
    index: str
    backend: str
    settings: dict[str, Any]
    bands: int
    rows: int


class ErrorOut(BaseModel):
    """Every error answer."""

    error: str
    detail: Any = None


class HealthOut(BaseModel):
    """Liveness answer."""

    status: str


class ReadyOut(BaseModel):
    """Readiness answer: the index answers and the compiled kernels are loaded."""

    status: str
    documents: int


# The error answers a protected route documents in /openapi.json.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 415, 422, 503)
}
