"""Recomputes a XAdES B-LTA archive time-stamp's imprint independently of kyso (lxml's exclusive
C14N, asn1crypto's TSTInfo), for a signature kyso writes: enveloped, exclusive C14N, references
to the document and to SignedProperties, no other ds:Object (ETSI EN 319 132-1 §5.5.2.2).
Prints `match` or `mismatch`. Usage: xades_archive_imprint.py SIGNED.xml"""
import sys, hashlib, base64
from lxml import etree
from asn1crypto import cms, tsp
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
def c14n(node):
    return etree.tostring(node, method="c14n", exclusive=True, with_comments=False)
tree = etree.parse(sys.argv[1])
sig = tree.find(".//{%s}Signature" % DS)
# 1. The references' results: the document less the signature, then SignedProperties.
bare = etree.parse(sys.argv[1])
gone = bare.find(".//{%s}Signature" % DS)
gone.getparent().remove(gone)
data = etree.tostring(bare, method="c14n", exclusive=True, with_comments=False)
data += c14n(sig.find(".//{%s}SignedProperties" % XADES))
# 2. SignedInfo, SignatureValue, KeyInfo.
for name in ("SignedInfo", "SignatureValue", "KeyInfo"):
    data += c14n(sig.find("{%s}%s" % (DS, name)))
# 3. The unsigned signature properties before the archive time-stamp.
for prop in sig.find(".//{%s}UnsignedSignatureProperties" % XADES):
    if prop.tag == "{%s}ArchiveTimeStamp" % XADES141:
        stamp = prop
        break
    data += c14n(prop)
token = base64.b64decode(stamp.find("{%s}EncapsulatedTimeStamp" % XADES).text)
info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
imprint = info["message_imprint"]
assert imprint["hash_algorithm"]["algorithm"].native == "sha256", imprint["hash_algorithm"].native
print("match" if imprint["hashed_message"].native == hashlib.sha256(data).digest() else "mismatch")
