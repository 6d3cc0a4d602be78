// The signing page, for a unit's signer key: POST /v1/sign/pdf or /v1/sign/xml with one of the
// signing keys GET /v1/whoami lists for the caller's units. The service verifies what it signed
// and says so in X-Kyso-Indication; the page shows that verdict in kyso's words.

import { call } from './api.js';
import { byId, el, replace, clear, saveBlob } from './dom.js';
import { t, indicationWords } from './i18n.js';
import { problemNotice } from './errors.js';

let ctx = null;
let last = null; // {name, blob, indication} of the document signed
let failure = null;
// The number of the latest signing; reset() bumps it too, so that a signed document arriving
// after logout is dropped instead of being offered to the next user for download.
let signing = 0;

export function mount(context) {
  ctx = context;
  byId('sign-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sign();
  });
  byId('sign-stamp').addEventListener('change', showStampFields);
}

/** The fields a Decree 30 layout needs: the number for an attachment, the form for a copy, the
 * image for the person's and the agency's, the space between title and name for the person's. */
function showStampFields() {
  const stamp = byId('sign-stamp').value;
  byId('sign-number-field').hidden = stamp !== 'attachment';
  byId('sign-copy-form-field').hidden = stamp !== 'copy';
  byId('sign-image-field').hidden = stamp !== 'person' && stamp !== 'agency';
  byId('sign-place-field').hidden = stamp !== 'person';
}

export function show() {
  const keys = ctx.identity().signing_keys || [];
  const select = byId('sign-key');
  const value = select.value;
  replace(select, keys.map((k) => el('option', { value: k.name },
    t('sign.keyOption', { name: k.name, unit: k.unit, method: k.method.toUpperCase() }))));
  if (value) select.value = value;
  const error = byId('sign-error');
  if (keys.length === 0) {
    error.hidden = false;
    error.textContent = t('sign.noKeys');
  }
}

export function reset() {
  signing += 1;
  last = null;
  failure = null;
  clear(byId('sign-status'));
  byId('sign-error').hidden = true;
  byId('sign-form').reset();
  showStampFields();
}

export function rerender() {
  if (ctx && ctx.identity() && ctx.can('sign')) show();
  if (last) renderDone();
  else if (failure) replace(byId('sign-status'), problemNotice(failure));
}

async function sign() {
  const error = byId('sign-error');
  const fail = (key) => {
    error.hidden = false;
    error.textContent = t(key);
  };
  error.hidden = true;
  const file = byId('sign-file').files[0];
  if (!file) return fail('sign.noFile');
  const kind = /\.pdf$/i.test(file.name) || file.type === 'application/pdf' ? 'pdf'
    : /\.xml$/i.test(file.name) || /xml/.test(file.type) ? 'xml' : null;
  if (!kind) return fail('sign.badType');
  const key = byId('sign-key').value;
  if (!key) return fail('sign.noKeys');
  const stamp = byId('sign-stamp').value;
  const number = byId('sign-number').value.trim();
  const place = byId('sign-place').value.trim();
  const image = byId('sign-image').files[0];
  if (stamp && kind !== 'pdf') return fail('sign.stampPdfOnly');
  if (stamp === 'attachment' && !number) return fail('sign.needNumber');
  if ((stamp === 'person' || stamp === 'agency') && !image) return fail('sign.needImage');
  if (stamp === 'person' && !place) return fail('sign.needPlace');
  const status = byId('sign-status');
  const mine = ++signing;
  last = null;
  failure = null;
  status.textContent = t('sign.signing', { name: file.name });
  const params = new URLSearchParams({ key });
  const documentId = byId('sign-document-id').value.trim();
  const reason = byId('sign-reason').value.trim();
  if (documentId) params.set('document_id', documentId);
  if (reason) params.set('reason', reason);
  if (stamp) params.set('stamp', stamp);
  if (stamp === 'attachment') params.set('number', number);
  if (stamp === 'copy') params.set('copy_form', byId('sign-copy-form').value);
  if (stamp === 'person') params.set('visible', place);
  // With an image the document and the image go as multipart parts, as the API takes them.
  let request = { body: file, contentType: kind === 'pdf' ? 'application/pdf' : 'application/xml' };
  if (image && (stamp === 'person' || stamp === 'agency')) {
    const form = new FormData();
    form.append('document', file, file.name);
    form.append(stamp === 'person' ? 'signature_image' : 'seal_image', image, image.name);
    request = { body: form };
  }
  try {
    const response = await call('POST', `/v1/sign/${kind}?${params}`, request);
    if (mine !== signing) return;
    const blob = await response.blob();
    if (mine !== signing) return;
    last = {
      name: file.name.replace(/(\.[^.]+)?$/, (ext) => `.signed${ext || ''}`),
      source: file.name,
      blob,
      indication: response.headers.get('X-Kyso-Indication') || '',
    };
    renderDone();
  } catch (e) {
    if (mine !== signing) return;
    failure = e;
    replace(status, problemNotice(e));
  }
}

function renderDone() {
  replace(byId('sign-status'),
    el('p', {}, t('sign.done', { name: last.source, verdict: indicationWords(last.indication) })),
    el('button', {
      type: 'button',
      class: 'button button-primary',
      id: 'sign-download',
      onclick: () => saveBlob(last.blob, last.name),
    }, t('sign.download')));
}
