"""kyso's CSC test provider: certomancer-csc-dummy (the CSC v1.0.4 test server by pyHanko's
author) behind a bearer-token check, on 127.0.0.1 only, for a bounded time.

    python3 serve.py CONFIG KEY_DIR OUT_DIR LIFETIME_SECONDS

The token the provider wants is read from the environment variable KYSO_CSC_TEST_TOKEN (never
from argv, where `ps` shows it). Before serving, writes OUT_DIR/root.pem, OUT_DIR/interm.pem and
the two CAs' CRLs (root.crl, interm.crl: PEM) for the verifiers, then prints `port N` on its own
line once the socket listens. The CRLs are also served where the certificates point,
`/kyso/crls/<repo>/latest.crl` on the same loopback address. The dummy server checks no credentials itself; the checks here
answer as a real provider does, with a CSC error body (CSC API §10.1): 401 for another token;
when KYSO_CSC_TEST_PIN is set, 400 `invalid_request` for a `credentials/authorize` without that
PIN. `GET /test/authorizations` counts the authorisations asked for, so a test can see that a
refused one is not asked again.

The dummy speaks CSC v1.0.4 only (`/csc/v1/…`). `/csc/v2/…` is a strict v2.0 front over it,
written here: `info` says 2.0.0.2; `credentials/authorize` and `signatures/signHash` want v2's
`hashes` and `hashAlgorithmOID` (and `operationMode` "S" when given), refuse v1's `hash`,
`hashAlgo` and `PIN`, take the PIN from `authData`, and are passed on to the v1 methods with
v1's names, so that kyso's v2 wire is exercised against real signatures.

`/csc/async/<holder>/…` is a CSC v2.0 service in the asynchronous mode over the same v1
methods, written here too (the dummy has no asynchronous mode): `signatures/signHash` wants
`operationMode` "A" and an integer `validity_period`, keeps the request and answers a fresh
`responseID`; `signatures/signPolling` (the id as `responseID`) answers as the holder does:
`confirms` — HTTP 400 "…has not yet been completed" for 2 seconds, then the dummy's signature
(the v1 `signHash` is made once per request, however often it is polled); `refuses` — HTTP 400
`access_denied`; `silent` — not completed, ever; `forged` — the dummy's signature with its last
byte changed. An unknown id answers HTTP 400 "expired or unknown". `GET /test/async` gives how
many times each request was signed.
"""

import asyncio
import base64
import json
import os
import secrets
import socket
import sys
import time
from datetime import datetime, timezone

import aiohttp
from aiohttp import web
from certomancer import registry
from certomancer.registry import ArchLabel, CertLabel, ServiceLabel
from csc_dummy.csc_dummy_server import CSCWithCertomancer, DummyServiceParams


def write_pki(cfg, out_dir):
    arch = cfg.get_pki_arch(ArchLabel('kyso'))
    now = datetime.now(tz=timezone.utc)
    for label, name in (('root', 'root.pem'), ('interm', 'intermediate.pem')):
        cert = arch.get_cert(CertLabel(label))
        with open(os.path.join(out_dir, name), 'w') as f:
            f.write(pem('CERTIFICATE', cert.dump()))
    for repo, name in (('interm-crl-of-root', 'root.crl'), ('signers-crl', 'intermediate.crl')):
        crl = arch.service_registry.get_crl(repo_label=ServiceLabel(repo), at_time=now)
        with open(os.path.join(out_dir, name), 'w') as f:
            f.write(pem('X509 CRL', crl.dump()))


def pem(kind, der):
    import base64
    body = base64.b64encode(der).decode('ascii')
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f'-----BEGIN {kind}-----\n' + '\n'.join(lines) + f'\n-----END {kind}-----\n'


def provider_checks(token, pin, counts):
    @web.middleware
    async def check(request, handler):
        if request.path in ('/test/authorizations', '/test/async') or request.path.startswith(
            '/kyso/crls/'
        ):
            return await handler(request)
        if request.headers.get('Authorization') != f'Bearer {token}':
            return web.json_response(
                {'error': 'invalid_token', 'error_description': 'the access token is not valid'},
                status=401,
            )
        if request.path.endswith('/credentials/authorize'):
            # What the v2 front passes on is the same authorisation, counted once.
            if 'X-Kyso-Test-Forwarded' not in request.headers:
                counts['authorize'] += 1
            # aiohttp keeps the body read here for the handler.
            body = await request.json()
            given = body.get('PIN')
            for item in body.get('authData', []):
                if item.get('id') == 'PIN':
                    given = item.get('value')
            if pin is not None and given != pin:
                return web.json_response(
                    {'error': 'invalid_request', 'error_description': 'Invalid PIN'},
                    status=400,
                )
        return await handler(request)
    return check


V1_ONLY = ('hash', 'hashAlgo', 'PIN', 'OTP')


def v2_front(port, token):
    """Handlers for /csc/v2/<method>, over the v1 methods of the same server."""

    def bad(description):
        return web.json_response(
            {'error': 'invalid_request', 'error_description': description}, status=400
        )

    async def forward(method, body):
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f'http://127.0.0.1:{port}/csc/v1/{method}',
                json=body,
                headers={'Authorization': f'Bearer {token}', 'X-Kyso-Test-Forwarded': '1'},
            ) as answer:
                return web.Response(
                    body=await answer.read(),
                    status=answer.status,
                    content_type='application/json',
                )

    async def info(request):
        return web.json_response({'specs': '2.0.0.2', 'name': 'kyso v2 front', 'lang': 'vi'})

    async def credentials_info(request):
        return await forward('credentials/info', await request.json())

    async def authorize(request):
        body = await request.json()
        if any(k in body for k in V1_ONLY) or 'hashes' not in body:
            return bad('v2 wants hashes and authData')
        if 'hashAlgorithmOID' not in body:
            return bad('Missing hashAlgorithmOID')
        v1 = {
            'credentialID': body.get('credentialID'),
            'numSignatures': body.get('numSignatures'),
            'hash': body['hashes'],
        }
        for item in body.get('authData', []):
            if item.get('id') == 'PIN':
                v1['PIN'] = item.get('value')
        return await forward('credentials/authorize', v1)

    async def sign_hash(request):
        body = await request.json()
        if any(k in body for k in V1_ONLY) or 'hashes' not in body:
            return bad('v2 wants hashes and hashAlgorithmOID')
        if body.get('operationMode', 'S') != 'S':
            return bad('only synchronous operation here')
        return await forward('signatures/signHash', v1_sign_hash(body))

    routes = [
        web.post('/csc/v2/info', info),
        web.post('/csc/v2/credentials/info', credentials_info),
        web.post('/csc/v2/credentials/authorize', authorize),
        web.post('/csc/v2/signatures/signHash', sign_hash),
    ]
    # The asynchronous service shares the v2 methods but signHash, and adds signPolling.
    routes += [
        web.post('/csc/async/{holder}/info', info),
        web.post('/csc/async/{holder}/credentials/info', credentials_info),
        web.post('/csc/async/{holder}/credentials/authorize', authorize),
    ]
    routes += async_front(forward, bad)
    return routes


def v1_sign_hash(body):
    """A v2 signHash request with v1's names."""
    v1 = {
        'credentialID': body.get('credentialID'),
        'SAD': body.get('SAD'),
        'hash': body['hashes'],
        'hashAlgo': body.get('hashAlgorithmOID'),
        'signAlgo': body.get('signAlgo'),
    }
    if 'signAlgoParams' in body:
        v1['signAlgoParams'] = body['signAlgoParams']
    return v1


# What signPolling answers while the holder has not confirmed.
NOT_COMPLETED = (
    'The previous asynchronous signature request has been accepted for processing, '
    'but the processing has not yet been completed.'
)
CONFIRMS_AFTER_SECONDS = 2.0


def async_front(forward, bad):
    """signHash in the asynchronous mode and signPolling, under /csc/async/<holder>/."""
    requests = {}

    async def sign_hash(request):
        body = await request.json()
        if any(k in body for k in V1_ONLY) or 'hashes' not in body:
            return bad('v2 wants hashes and hashAlgorithmOID')
        if body.get('operationMode') != 'A':
            return bad('this service signs in the asynchronous mode only: operationMode "A"')
        if not isinstance(body.get('validity_period'), int) or body['validity_period'] <= 0:
            return bad('validity_period: milliseconds, an integer')
        response_id = secrets.token_hex(16)
        requests[response_id] = {
            'holder': request.match_info['holder'],
            'body': body,
            'asked': time.monotonic(),
            'answer': None,
            'signed': 0,
        }
        return web.json_response({'responseID': response_id})

    async def sign_polling(request):
        body = await request.json()
        entry = requests.get(body.get('responseID'))
        if entry is None:
            return bad('Invalid parameter responseID: expired or unknown')
        holder = entry['holder']
        waited = time.monotonic() - entry['asked']
        if holder == 'refuses':
            return web.json_response(
                {
                    'error': 'access_denied',
                    'error_description': 'The user refused the signature on the mobile device',
                },
                status=400,
            )
        if holder == 'silent' or (holder == 'confirms' and waited < CONFIRMS_AFTER_SECONDS):
            return bad(NOT_COMPLETED)
        if entry['answer'] is None:
            signed = await forward('signatures/signHash', v1_sign_hash(entry['body']))
            if signed.status != 200:
                return signed
            answer = json.loads(signed.body)
            entry['signed'] += 1
            if holder == 'forged':
                value = bytearray(base64.b64decode(answer['signatures'][0]))
                value[-1] ^= 0x01
                answer['signatures'][0] = base64.b64encode(bytes(value)).decode('ascii')
            entry['answer'] = answer
        return web.json_response(entry['answer'])

    async def signed(request):
        return web.json_response({'signed': [e['signed'] for e in requests.values()]})

    return [
        web.post('/csc/async/{holder}/signatures/signHash', sign_hash),
        web.post('/csc/async/{holder}/signatures/signPolling', sign_polling),
        web.get('/test/async', signed),
    ]


async def main(config_path, key_dir, out_dir, lifetime):
    token = os.environ['KYSO_CSC_TEST_TOKEN']
    pin = os.environ.get('KYSO_CSC_TEST_PIN')
    counts = {'authorize': 0}
    # The socket first: the certificates' CRL distribution points name its port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    cfg = registry.CertomancerConfig.from_file(
        config_path, key_search_dir=key_dir, external_url_prefix=f'http://127.0.0.1:{port}'
    )
    write_pki(cfg, out_dir)
    arch = cfg.get_pki_arch(ArchLabel('kyso'))
    csc = CSCWithCertomancer(cfg, service_params=DummyServiceParams(hash_pinning_required=True))
    csc.app.middlewares.append(provider_checks(token, pin, counts))
    csc.register_routes()

    async def authorizations(request):
        return web.json_response({'count': counts['authorize']})

    csc.app.router.add_get('/test/authorizations', authorizations)
    csc.app.add_routes(v2_front(port, token))

    async def crl(request):
        repo = ServiceLabel(request.match_info['repo'])
        now = datetime.now(tz=timezone.utc)
        der = arch.service_registry.get_crl(repo_label=repo, at_time=now).dump()
        return web.Response(body=der, content_type='application/pkix-crl')

    csc.app.router.add_get('/kyso/crls/{repo}/latest.crl', crl)
    runner = web.AppRunner(csc.app)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    print(f'port {port}', flush=True)
    # Bounded lifetime: the test kills this process when it is done, and if the test itself
    # dies the provider still goes away.
    await asyncio.sleep(lifetime)
    await runner.cleanup()


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
