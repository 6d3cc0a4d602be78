"""pyHanko's side of benches/extend.rs, in one Python process.

  sign    --cert C --key K --chain CA --count N INPUT OUTDIR
          signs N copies of INPUT at B-B (PAdES, no time-stamp, no validation data) into
          OUTDIR/0000.pdf, ...: the files both kyso and pyHanko then extend.
  extend  --root ROOT --tsa URL INDIR OUTDIR
          extends every INDIR/*.pdf as `pyhanko sign ltvfix` then a document time-stamp with
          validation data (`addsig --use-pades-lta`'s archive step) do: the signature's
          validation data into the DSS, then a document time-stamp; prints one line:
          `pyhanko extend N documents in S s`.
"""
import argparse
import glob
import io
import os
import sys
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import add_validation_info
from pyhanko_certvalidator import ValidationContext

parser = argparse.ArgumentParser()
sub = parser.add_subparsers(dest='command', required=True)
sign = sub.add_parser('sign')
sign.add_argument('--cert', required=True)
sign.add_argument('--key', required=True)
sign.add_argument('--chain', required=True)
sign.add_argument('--count', type=int, required=True)
sign.add_argument('input')
sign.add_argument('outdir')
extend = sub.add_parser('extend')
extend.add_argument('--root', required=True)
extend.add_argument('--tsa', required=True)
extend.add_argument('indir')
extend.add_argument('outdir')
args = parser.parse_args()

if args.command == 'sign':
    signer = signers.SimpleSigner.load(
        args.key, args.cert, ca_chain_files=(args.chain,), key_passphrase=None
    )
    with open(args.input, 'rb') as f:
        data = f.read()
    for n in range(args.count):
        out = io.BytesIO()
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(data)),
            signers.PdfSignatureMetadata(field_name='Peer', subfilter=fields.SigSeedSubFilter.PADES),
            signer=signer,
            output=out,
        )
        with open(os.path.join(args.outdir, f'{n:04}.pdf'), 'wb') as f:
            f.write(out.getvalue())
    sys.exit(0)

root = load_cert_from_pemder(args.root)
timestamper = timestamps.HTTPTimeStamper(args.tsa)
files = sorted(glob.glob(os.path.join(args.indir, '*.pdf')))
# One context for the whole run, so that pyHanko too fetches each CRL and OCSP answer once
# (its best case: `pyhanko sign ltvfix` run per file would fetch them again for each).
context = ValidationContext(trust_roots=[root], allow_fetching=True)
start = time.perf_counter()
for path in files:
    with open(path, 'rb') as f:
        reader = PdfFileReader(f)
        fixed = add_validation_info(reader.embedded_signatures[0], context)
    stamped = io.BytesIO()
    signers.PdfTimeStamper(timestamper).timestamp_pdf(
        IncrementalPdfFileWriter(fixed),
        'sha256',
        context,
        output=stamped,
    )
    with open(os.path.join(args.outdir, os.path.basename(path)), 'wb') as f:
        f.write(stamped.getvalue())
print(f'pyhanko extend {len(files)} documents in {time.perf_counter() - start:.2f} s')
