"""Is this PDF one we issued, unmodified? (issue 11 §4)

Three answers: an unmodified record we issued (its registry row); signed with our key but not
in the registry (made with our key outside the hand-out path, or the registry lost it); or
refused — not a PDF, not signed, signed by someone else, or changed after signing — with the
reason in words."""
from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

from sqlalchemy import select

from intranet.archive import keys
from intranet.core.i18n import lazy_gettext as _l
from intranet.extensions import db
from intranet.models import IssuedDocument

log = logging.getLogger("intranet.archive")

ISSUED, UNREGISTERED, REFUSED = "issued", "unregistered", "refused"

NOT_A_PDF = _l("This is not a readable PDF file.")
NOT_SIGNED = _l("The file carries no signature: it was not issued by this system.")
FOREIGN = _l("The file is signed, but not with the company's certificate.")
BROKEN = _l("The content no longer matches its signature: the file was changed after it "
            "was issued.")
CHANGED_AFTER = _l("Something was added to or changed in the file after it was signed "
                   "(for example pages removed or added).")
SEVERAL = _l("The file carries more than one signature; records issued here carry one.")


@dataclass
class Verdict:
    outcome: str                        # ISSUED, UNREGISTERED or REFUSED
    reason: object = None               # lazy string, for REFUSED
    document: IssuedDocument | None = None
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == ISSUED


def verify(content: bytes) -> Verdict:
    digest = hashlib.sha256(content).hexdigest()
    outcome = _signature(content)
    if outcome is not None:
        return Verdict(REFUSED, outcome, sha256=digest)
    document = db.session.scalar(select(IssuedDocument).where(
        IssuedDocument.sha256 == digest).order_by(IssuedDocument.id).limit(1))
    if document is None:
        return Verdict(UNREGISTERED, sha256=digest)
    return Verdict(ISSUED, document=document, sha256=digest)


def _signature(content: bytes):
    """None when the file carries exactly our signature over all of it; else the reason."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            OSError):
        return NOT_A_PDF
    if not signatures:
        return NOT_SIGNED
    if len(signatures) > 1:
        return SEVERAL
    ours = keys.certificate()
    try:
        if signatures[0].signer_cert.dump() != ours.dump():
            return FOREIGN
        status = keys.off_the_event_loop(
            validate_pdf_signature, signatures[0],
            ValidationContext(trust_roots=[ours], allow_fetching=False))
    except Exception:  # a malformed signature dictionary is a refusal, not a crash
        log.warning("signature validation failed", exc_info=True)
        return BROKEN
    if not status.intact or not status.valid:
        return BROKEN
    if status.coverage.name != "ENTIRE_FILE":
        return CHANGED_AFTER
    return None
