"""pyHanko's PAdES B-B signing rate, the peer of benches/pdf_sign.rs: signs one document in a
loop for a fixed time, in memory, one process, one thread, and prints one line.

Through the same SoftHSM token and key when python-pkcs11 is installed (pyHanko's PKCS#11
signer; ECDSA keys use the raw CKM_ECDSA mechanism, since SoftHSM has no CKM_ECDSA_SHA256);
otherwise with a software key of the same type from PEM files, and the line says so.

Usage: KYSO_BENCH_PIN=... python3 pyhanko_sign.py --module LIB --token LABEL --label KEY
       --seconds N --chain CA.pem --pem-key KEY.pem --pem-cert CERT.pem INPUT.pdf
"""
import argparse
import io
import os
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

parser = argparse.ArgumentParser()
parser.add_argument('--module', required=True)
parser.add_argument('--token', required=True)
parser.add_argument('--label', required=True)
parser.add_argument('--seconds', type=float, default=2.0)
parser.add_argument('--chain', required=True)
parser.add_argument('--pem-key', required=True)
parser.add_argument('--pem-cert', required=True)
parser.add_argument('input')
args = parser.parse_args()
chain = [load_cert_from_pemder(args.chain)]

try:
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11 as p11

    session = p11.open_pkcs11_session(
        args.module,
        token_criteria=TokenCriteria(label=args.token),
        user_pin=os.environ['KYSO_BENCH_PIN'],
    )
    probe = p11.PKCS11Signer(session, key_label=args.label, cert_label=args.label)
    is_ec = probe.signing_cert.public_key.algorithm == 'ec'
    signer = p11.PKCS11Signer(
        session,
        key_label=args.label,
        cert_label=args.label,
        ca_chain=chain,
        use_raw_mechanism=is_ec,
    )
    how = 'through SoftHSM (pyHanko PKCS#11 signer)'
except ImportError as e:
    signer = signers.SimpleSigner.load(
        args.pem_key, args.pem_cert, ca_chain_files=(args.chain,)
    )
    how = f'with a PEM software key, NOT through SoftHSM ({e}; pip install python-pkcs11)'

with open(args.input, 'rb') as f:
    document = f.read()
meta = signers.PdfSignatureMetadata(
    field_name='Signature1', subfilter=fields.SigSeedSubFilter.PADES
)
pdf_signer = signers.PdfSigner(meta, signer=signer)

count = 0
start = time.perf_counter()
while time.perf_counter() - start < args.seconds:
    writer = IncrementalPdfFileWriter(io.BytesIO(document))
    out = pdf_signer.sign_pdf(writer)
    assert out.getbuffer().nbytes > len(document)
    count += 1
elapsed = time.perf_counter() - start
print(f'{count / elapsed:8.1f} PDF/s {how}, {count} in {elapsed:.1f} s')
