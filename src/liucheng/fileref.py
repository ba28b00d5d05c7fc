"""``FileRef``: a process variable that refers to a file (a scanned ID card, a signed contract).

A case never holds a file's bytes: a file store (the web app's, a bucket) keeps them, and the
case holds what a process needs to reason about the file — its name, media type, size, digest
and where it is kept (an attachment recorded with ``Engine.attach``, or a URI).  Holding only
metadata keeps cases small enough to load and save at every step.

A ``FileRef`` is immutable, so a copy handed to a service handler or a worker cannot change the
case behind the engine's back.  It is a value type of its own rather than a dict so that a
variable declared as a file reference (``type="file"``) can be told apart from any JSON object,
and so that the codec stores it under a tag of its own (``{"$file": {...}}``, see
``engine/codec.py``).  Expressions read it like a context: FEEL ``doc.name``, ``doc.size >
1000000`` (``expr/feel/values.to_feel`` turns it into one).

This module sits at the package root because both the expression languages and the engine use
it, and neither may depend on the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from liucheng.errors import LiuchengError

if TYPE_CHECKING:
    from liucheng.store import Attachment

__all__ = ["FileRef"]

_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The longest name and location accepted (as for attachments).
NAME_LIMIT = 255
LOCATION_LIMIT = 2000
#: The members a FileRef shows to expressions and stores, in this order.
FIELDS = ("name", "media_type", "size", "sha256", "attachment", "uri")


@dataclass(frozen=True, slots=True)
class FileRef:
    """A reference to a file kept outside the case.

    ``name`` is the file's name as the user gave it, ``media_type`` ``type/subtype``
    (``application/pdf``), ``size`` its length in bytes, ``sha256`` its digest as 64 lower-case
    hex digits when known.  It points at the bytes through ``attachment`` (the id of an
    attachment recorded on the case with ``Engine.attach``) and/or ``uri`` (a URI or a file
    store's key, never opened by the engine); one of the two is required.  Bad fields are
    refused with :class:`~liucheng.errors.LiuchengError` naming the field.
    """

    name: str
    media_type: str
    size: int
    sha256: str | None = None
    attachment: str | None = None
    uri: str | None = None

    def __post_init__(self) -> None:
        _text(self.name, "name", NAME_LIMIT)
        if not isinstance(self.media_type, str) or not _MEDIA_TYPE.fullmatch(self.media_type):
            raise LiuchengError(
                f"file reference: media_type {self.media_type!r} is not of the form type/subtype"
            )
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise LiuchengError(
                f"file reference: size must be a whole number of bytes, not {self.size!r}"
            )
        if self.sha256 is not None and (
            not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256)
        ):
            raise LiuchengError(
                f"file reference: sha256 must be 64 lower-case hex digits, not {self.sha256!r}"
            )
        if self.attachment is not None:
            _text(self.attachment, "attachment", NAME_LIMIT)
        if self.uri is not None:
            _text(self.uri, "uri", LOCATION_LIMIT)
        if self.attachment is None and self.uri is None:
            raise LiuchengError(
                f"file reference {self.name!r} names neither an attachment nor a uri"
            )

    @classmethod
    def of_attachment(cls, attachment: Attachment, *, sha256: str | None = None) -> FileRef:
        """The reference to a file recorded with ``Engine.attach`` (its id, name, type, size and
        location)."""
        return cls(
            attachment.name,
            attachment.media_type,
            attachment.size,
            sha256=sha256,
            attachment=attachment.id,
            uri=attachment.uri,
        )

    def to_dict(self) -> dict[str, Any]:
        """Its fields as a plain dict, None members left out (``from_dict`` reverses it)."""
        return {key: getattr(self, key) for key in FIELDS if getattr(self, key) is not None}

    @classmethod
    def from_dict(cls, data: object) -> FileRef:
        """Read ``to_dict`` output (from storage, or a JSON client); unknown keys are refused."""
        if not isinstance(data, dict):
            raise LiuchengError(f"a file reference must be an object, not {type(data).__name__!r}")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise LiuchengError(f"file reference: unknown field(s) {', '.join(unknown)}")
        missing = [key for key in ("name", "media_type", "size") if key not in data]
        if missing:
            raise LiuchengError(f"file reference: missing field(s) {', '.join(missing)}")
        return cls(**data)

    def feel_context(self) -> dict[str, Any]:
        """The members expressions see: every field, absent ones as null."""
        return {key: getattr(self, key) for key in FIELDS}


def _text(value: object, field: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise LiuchengError(f"file reference: {field} must be non-empty text")
    if len(value) > limit:
        raise LiuchengError(f"file reference: {field} is longer than {limit} characters")
