"""XML-DSig (enveloped) signing and verification of DCC files with the provider's key (signxml).

The same key and certificate as the PDF's PAdES signature (``LABCAL_SIGNING_KEY`` /
``LABCAL_SIGNING_CERT``). The ``ds:Signature`` is the root element's last child, where the DCC
3.3.0 schema puts it; its one reference (URI ``""``) covers the whole document, so changing any
byte of the certificate's content makes verification fail.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from lxml import etree
from signxml.algorithms import SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from labcal_cloud.certificates.signing import Verification

__all__ = ["DccSigner"]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class DccSigner:
    def __init__(self, key_file: Path, cert_file: Path) -> None:
        self._key = load_pem_private_key(key_file.read_bytes(), password=None)
        self._cert_pem = cert_file.read_bytes()
        self._cert = x509.load_pem_x509_certificate(self._cert_pem)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            self._method = SignatureMethod.ECDSA_SHA256
        elif isinstance(self._key, rsa.RSAPrivateKey):
            self._method = SignatureMethod.RSA_SHA256
        else:
            raise ValueError(f"{key_file}: only EC and RSA keys can sign a DCC")

    def sign(self, xml: bytes) -> bytes:
        root = etree.fromstring(xml, _PARSER)
        signer = XMLSigner(signature_algorithm=self._method)
        signed = signer.sign(root, key=self._key, cert=[self._cert])  # type: ignore[arg-type]
        out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        return out

    def verify(self, xml: bytes) -> Verification:
        """Valid only if the one enveloped signature is intact and made by the provider's key."""
        try:
            XMLVerifier().verify(xml, x509_cert=self._cert)
        except InvalidSignature as exc:
            return Verification(False, f"the signature does not match the file: {exc}")
        except (InvalidInput, etree.XMLSyntaxError, ValueError) as exc:
            return Verification(False, f"the file cannot be read as a signed DCC: {exc}")
        signer = self._cert.subject.rfc4514_string()
        return Verification(True, "signature valid: signed by the provider, unchanged", signer)
