"""Validates every signature of a PDF with pyHanko's AdES process (what `pyhanko sign adesverify`
runs: basic, with-time and LTA validation), offline: revocation data may come only from the
document itself (DSS, revocation-info-archival), never from the network. `pyhanko sign
validate` reads no DSS, and `adesverify` cannot be told not to fetch, hence this script.

Usage: python3 pyhanko_ades_offline.py FILE.pdf ROOT.pem [ROOT.pem ...]
Prints one line per signature: FIELD BOTTOM_LINE ADES_SUBINDICATION SUMMARY.
"""
import asyncio
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

roots = [load_cert_from_pemder(path) for path in sys.argv[2:]]
spec = PdfSignatureValidationSpec(
    signature_validation_spec=SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=roots),
            # Every certificate of every path needs revocation information.
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
        ),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
        ),
    ),
    diff_policy=DEFAULT_DIFF_POLICY,
)
with open(sys.argv[1], 'rb') as f:
    reader = PdfFileReader(f)
    for sig in reader.embedded_regular_signatures:
        result = asyncio.run(ades_lta_validation(sig, spec))
        status = result.api_status
        bottom = status.bottom_line if status is not None else False
        summary = status.summary() if status is not None else '-'
        print(sig.field_name, bottom, result.ades_subindic, summary)
