"""PAdES signing and verification of certificate PDFs with pyHanko (the provider's key)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

__all__ = ["CertificateSigner", "Verification"]

FIELD = "LabCalSignature"


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str
    signer: str = ""


class CertificateSigner:
    """Signs with the provider's key and verifies against the provider's certificate."""

    def __init__(self, key_file: Path, cert_file: Path) -> None:
        self.key_file, self.cert_file = key_file, cert_file  # the DCC is signed with them too
        self._signer = signers.SimpleSigner.load(str(key_file), str(cert_file))  # type: ignore[no-untyped-call]
        if self._signer is None:
            raise ValueError(f"cannot load signing key {key_file} with certificate {cert_file}")
        self._trust = load_cert_from_pemder(str(cert_file))  # type: ignore[no-untyped-call]

    def sign(self, pdf: bytes) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason="Calibration certificate",
            name="LabCal",
        )
        out = signers.sign_pdf(writer, meta, signer=self._signer)
        signed: bytes = out.getvalue()
        return signed

    def verify(self, pdf: bytes) -> Verification:
        """Valid only if the one signature is intact, covers the whole file and is trusted."""
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            signatures = reader.embedded_signatures
            if len(signatures) != 1:
                return Verification(False, f"expected one signature, found {len(signatures)}")
            context = ValidationContext(trust_roots=[self._trust], allow_fetching=False)
            status = validate_pdf_signature(signatures[0], context)
        except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            # a damaged file raises from deep inside the PDF parser
            return Verification(False, f"the file cannot be read as a signed PDF: {exc}")
        signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
        if not status.intact:
            return Verification(False, "the document was changed after signing", signer)
        if not status.valid:
            return Verification(False, "the signature is not cryptographically valid", signer)
        if not status.trusted:
            return Verification(False, "the signature is not by the provider's key", signer)
        if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
            return Verification(False, "content was added after signing", signer)
        return Verification(True, "signature valid: signed by the provider, unchanged", signer)
