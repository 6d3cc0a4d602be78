"""Signs a PDF with pyHanko's CSCSigner through a CSC API server (kyso serve's /csc/v1 or
/csc/v2): the certificates come from credentials/info, each signature's hash is authorised
with credentials/authorize (SCAL2: the SAD is bound to it), then signed by signatures/signHash.

pyHanko's CSCSigner is a CSC v1.0.4 client (its own documentation says so: `hash`, `hashAlgo`),
so it talks to /csc/v1; its `api_ver` only changes the URL.

Usage: python3 pyhanko_csc_sign.py SERVICE_URL CREDENTIAL_ID IN.pdf OUT.pdf
(SERVICE_URL is kyso serve's base URL: pyHanko appends /csc/v1/ itself)
The API key comes from the environment (KYSO_CSC_API_KEY), never from the command line.
Prints the SAD lifetime (expiresIn) the service gave, and the SHA-256 of the signature's signed
attributes as read back from the signed file (what the service signed, and names its ledger event
by).
"""
import asyncio
import hashlib
import os
import sys

import aiohttp
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.signers import csc_signer


class HashBoundAuthorization(csc_signer.CSCAuthorizationManager):
    """Asks credentials/authorize for a SAD bound to exactly the hashes about to be signed."""

    def __init__(self, session_info, credential_info, http):
        super().__init__(session_info, credential_info)
        self.http = http

    async def authorize_signature(self, hash_b64s):
        request = self.format_csc_auth_request(hash_b64s=hash_b64s)
        url = self.csc_session_info.endpoint_url('credentials/authorize')
        async with self.http.post(
            url, headers=self.auth_headers, json=request, raise_for_status=True
        ) as response:
            answer = await response.json()
        print('expiresIn', answer.get('expiresIn'))
        return self.parse_csc_auth_response(answer)


async def main(url, credential, source, target):
    session_info = csc_signer.CSCServiceSessionInfo(
        service_url=url,
        credential_id=credential,
        oauth_token=os.environ['KYSO_CSC_API_KEY'],
        api_ver='v1',
    )
    async with aiohttp.ClientSession() as http:
        credential_info = await csc_signer.fetch_certs_in_csc_credential(
            http, session_info
        )
        authorization = HashBoundAuthorization(session_info, credential_info, http)
        signer = csc_signer.CSCSigner(http, auth_manager=authorization)
        with open(source, 'rb') as f:
            writer = IncrementalPdfFileWriter(f)
            metadata = signers.PdfSignatureMetadata(
                field_name='Signature1', md_algorithm='sha256'
            )
            signed = await signers.async_sign_pdf(writer, metadata, signer=signer)
        with open(target, 'wb') as out:
            out.write(signed.getvalue())
    with open(target, 'rb') as f:
        (signature,) = PdfFileReader(f).embedded_signatures
        signed_attrs = signature.signer_info['signed_attrs'].dump()
        # DER re-encodes the [0] IMPLICIT tag as the SET OF that is hashed and signed.
        print('signed_attrs_sha256', hashlib.sha256(b'\x31' + signed_attrs[1:]).hexdigest())


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]))
