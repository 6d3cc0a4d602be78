// The verify page: one PDF or XML document or edXML package through POST /v1/verify, its report
// in plain words (a package: its header, the header checks, and each attachment with its own
// signatures).
// The words for the verdicts are kyso's own (see i18n.js); the report itself is kept as the
// service sent it, for the JSON download.

import { call } from './api.js';
import { byId, el, icon, replace, clear, saveBlob } from './dom.js';
import { problemNotice } from './errors.js';
import {
  t, has, lang, indicationWords, subIndicationWords, dateTime, count, reasonText,
} from './i18n.js';

/** Changes listed on the page at most; the JSON report has them all. */
const CHANGES_SHOWN = 50;

const TONES = {
  'TOTAL-PASSED': 'passed',
  INDETERMINATE: 'indeterminate',
  'TOTAL-FAILED': 'failed',
};

let last = null; // {name, report, text, file} of the document shown
let failure = null; // {name, error} of a request that failed
let busy = false;
// The number of the latest check; reset() bumps it too, so that an answer arriving after logout
// (for the previous clerk's document) is dropped instead of filling the next clerk's page.
let checking = 0;

export function mount() {
  const zone = byId('dropzone');
  const input = byId('verify-file');
  byId('verify-choose').addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    if (input.files.length) check(input.files);
    input.value = '';
  });
  zone.addEventListener('dragenter', (e) => { e.preventDefault(); zone.classList.add('dragging'); });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('dragging'); });
  zone.addEventListener('dragleave', (e) => {
    if (!zone.contains(e.relatedTarget)) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files.length) check(e.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser open it in place of the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
}

export function show() {}

export function reset() {
  checking += 1;
  busy = false;
  byId('verify-choose').disabled = false;
  last = null;
  failure = null;
  clear(byId('verify-result'));
  clear(byId('verify-status'));
}

export function rerender() {
  if (last) {
    announceDone();
    render();
  } else if (failure) {
    renderFailure();
  }
}

async function check(files) {
  const status = byId('verify-status');
  if (busy) return;
  if (files.length !== 1) {
    status.textContent = t('verify.oneFile');
    return;
  }
  const file = files[0];
  if (file.size === 0) {
    status.textContent = t('verify.empty');
    return;
  }
  const mine = ++checking;
  busy = true;
  byId('verify-choose').disabled = true;
  last = null;
  failure = null;
  clear(byId('verify-result'));
  status.textContent = t('verify.checking', { name: file.name });
  try {
    const response = await call('POST', '/v1/verify', {
      body: file,
      contentType: 'application/octet-stream',
    });
    if (mine !== checking) return;
    const text = await response.text();
    if (mine !== checking) return;
    last = { name: file.name, report: JSON.parse(text), text, file };
    announceDone();
    render();
    byId('verify-result').focus();
  } catch (error) {
    if (mine !== checking) return;
    failure = { name: file.name, error };
    renderFailure();
  } finally {
    if (mine === checking) {
      busy = false;
      byId('verify-choose').disabled = false;
    }
  }
}

/** The live status names the verdict too, so a screen reader announces it, not only "done". */
function announceDone() {
  byId('verify-status').textContent = t('verify.done', {
    name: last.name,
    verdict: shortWord(last.report.indication),
  });
}

function renderFailure() {
  byId('verify-status').textContent = t('verify.failedRequest', { name: failure.name });
  replace(byId('verify-result'), problemNotice(failure.error));
}

function tone(indication) {
  return TONES[indication] || 'indeterminate';
}

/** "HỢP LỆ" out of "HỢP LỆ — chữ ký số đúng và tin cậy". */
function shortWord(indication) {
  return indicationWords(indication).split(' — ')[0];
}

function verdictBox(indication, sub, extra) {
  return el('div', { class: `verdict tone-${tone(indication)}`, 'data-indication': indication },
    el('span', { class: 'verdict-icon' }, icon(tone(indication))),
    el('div', {},
      el('p', { class: 'verdict-word' }, indicationWords(indication)),
      sub ? el('p', { class: 'verdict-detail' }, subIndicationWords(sub)) : null,
      el('p', { class: 'code mono' }, sub ? `${indication} / ${sub}` : indication),
      extra));
}

/** The Decree 30/2020/NĐ-CP form checks, when the service ran them: a line of its own beside the
 * ETSI verdict, in the words the report carries in both languages. */
function decree30Line(check) {
  if (!check) return null;
  return el('p', {
    class: `decree30 tone-${check.passed ? 'passed' : 'indeterminate'}`,
    id: 'verify-decree30',
    'data-passed': String(check.passed),
  }, lang() === 'en' ? check.summary_en : check.summary_vi);
}

function render() {
  const { name, report, text } = last;
  const result = byId('verify-result');
  const signatures = report.signatures || [];
  replace(result,
    el('h2', {}, t('verify.resultTitle', { name })),
    el('h3', {}, t('verify.conclusion')),
    verdictBox(report.indication, report.subindication,
      report.reasons && report.reasons.length
        ? reasonList('list-plain verdict-detail', report.reasons)
        : null),
    facts([
      [t('verify.file'), name],
      [t('verify.format'), String(report.format || '').toUpperCase()],
      [t('verify.sha256'), el('span', { class: 'mono' }, report.sha256)],
      [t('verify.validatedAt'), dateTime(report.validated_at)],
      [t('verify.count'), count(signatures.length)],
    ]),
    decree30Line(report.decree30),
    el('div', { class: 'actions' },
      el('button', {
        type: 'button',
        class: 'button',
        id: 'verify-download',
        onclick: () => saveBlob(new Blob([text], { type: 'application/json' }), `${name}.kyso-report.json`),
      }, t('verify.download')),
      el('button', {
        type: 'button',
        class: 'button',
        id: 'verify-record',
        onclick: () => saveRecord(),
      }, t('verify.record')),
      el('button', {
        type: 'button',
        class: 'button',
        onclick: () => byId('verify-choose').focus(),
      }, t('verify.another'))),
    report.package
      ? packagePart(report.package, signatures)
      : [signatures.length === 0 ? el('p', { class: 'empty' }, t('verify.noSignature')) : null,
        signatures.map((s, i) => signatureSection(s, i + 1))]);
}

/** The printable verification record (biên bản) of the document shown: the service verifies it
 * again and answers with the page to print or save as PDF. */
async function saveRecord() {
  const { name, file } = last;
  const status = byId('verify-status');
  try {
    const response = await call('POST', '/v1/verify', {
      body: file,
      contentType: 'application/octet-stream',
      headers: { Accept: 'text/html' },
    });
    const page = await response.text();
    saveBlob(new Blob([page], { type: 'text/html' }), `${name}.bien-ban.html`);
    status.textContent = t('verify.recordSaved', { name });
  } catch (error) {
    replace(status, t('verify.recordFailed'), ' ', problemNotice(error));
  }
}

/** An edXML package: what its header says, the header checks, the envelope signature, and each
 * attachment with its verdict and its own signatures. Every string comes from the package and
 * goes through el(), which sets text, never markup. */
function packagePart(pkg, envelope) {
  const header = pkg.header || {};
  const organ = (o) => (o ? [o.organ_name, o.organ_id ? `(${o.organ_id})` : null].filter(Boolean).join(' ') : null);
  const code = header.code || {};
  const signer = header.signer || {};
  const number = code.number ? [code.number, code.notation].filter(Boolean).join('/') : null;
  const checks = pkg.checks || [];
  return el('section', { class: 'package', 'aria-label': t('package.title') },
    el('h2', {}, t('package.title')),
    facts([
      [t('package.from'), organ(header.from)],
      [t('package.to'), (header.to || []).map(organ).filter(Boolean).join('; ')],
      [t('package.documentId'), header.document_id],
      [t('package.number'), number],
      [t('package.date'), (header.promulgation || {}).date],
      [t('package.subject'), header.subject],
      [t('package.signer'), [signer.position, signer.full_name].filter(Boolean).join(' ')],
    ]),
    (pkg.warnings || []).length
      ? [el('h3', {}, t('verify.warnings')), reasonList('list-plain warnings', pkg.warnings)]
      : null,
    checks.length
      ? [el('h3', {}, t('package.checks')),
        el('div', { class: 'table-wrap' }, el('table', { class: 'package-checks' },
          el('thead', {}, el('tr', {},
            el('th', { scope: 'col' }, t('package.check.field')),
            el('th', { scope: 'col' }, t('package.check.header')),
            el('th', { scope: 'col' }, t('package.check.outcome')),
            el('th', { scope: 'col' }, t('package.check.found')))),
          el('tbody', {}, checks.map((c) => el('tr', { 'data-outcome': c.outcome },
            el('td', {}, has(`package.field.${c.field}`) ? t(`package.field.${c.field}`) : c.field),
            el('td', {}, c.header),
            el('td', { class: c.outcome === 'mismatch' ? 'tone-text-failed' : '' },
              has(`package.outcome.${c.outcome}`) ? t(`package.outcome.${c.outcome}`) : c.outcome),
            el('td', {}, c.found ? [c.found, c.source ? el('span', { class: 'hint' }, ' — ', c.source) : null] : '—'))))))]
      : null,
    el('h3', {}, t('package.envelope')),
    envelope.length === 0 ? el('p', { class: 'empty' }, t('package.noEnvelope')) : null,
    envelope.map((s, i) => signatureSection(s, i + 1)),
    (pkg.attachments || []).map((a, i) => attachmentSection(a, i + 1)));
}

function attachmentSection(a, n) {
  const heading = `${t('package.attachmentN', { n })}: ${a.name || a.content_id || ''}`;
  const report = a.report || {};
  const signatures = report.signatures || [];
  const reasons = (a.reasons || []).concat(report.reasons || []);
  return el('section', { class: 'attachment', 'data-indication': a.indication || '', 'aria-label': heading },
    el('div', { class: 'signature-head' },
      el('h2', {}, heading),
      a.indication
        ? el('span', { class: `badge tone-${tone(a.indication)}` }, icon(tone(a.indication)), shortWord(a.indication))
        : el('span', { class: 'badge' }, has(`package.status.${a.status}`) ? t(`package.status.${a.status}`) : a.status)),
    el('div', { class: 'signature-body' },
      a.indication
        ? verdictBox(a.indication, a.subindication, reasons.length
          ? reasonList('list-plain verdict-detail', reasons)
          : null)
        : null,
      facts([
        [t('package.kind'), a.content_type ? `${a.kind} (${a.content_type})` : a.kind],
        [t('package.compression'), a.compression === 'zip' ? `ZIP${a.entry ? `: ${a.entry}` : ''}` : null],
        [t('package.size'), a.size === null || a.size === undefined ? null : count(a.size)],
        [t('verify.sha256'), a.sha256 ? el('span', { class: 'mono' }, a.sha256) : null],
        [t('verify.count'), a.report ? count(signatures.length) : null],
      ]),
      signatures.map((s, i) => signatureSection(s, i + 1))));
}

/** Reasons or notes as a list, each in the page's language (the report carries both). A reason
 * has a stable code for programs; the page shows it only as the item's data attribute. */
function reasonList(cls, reasons) {
  return el('ul', { class: cls }, reasons.map((r) => el('li', { 'data-code': r.code || '' }, reasonText(r))));
}

function facts(rows) {
  return el('dl', { class: 'document-facts' },
    rows.filter(([, value]) => value !== null && value !== undefined && value !== '')
      .map(([label, value]) => [el('dt', {}, label), el('dd', {}, value)]));
}

function signatureSection(s, n) {
  const signer = s.signer || {};
  const heading = `${t('verify.signatureN', { n })}: ${signer.common_name || signer.subject || s.name}`;
  const time = s.signing_time
    ? [dateTime(s.signing_time), ' — ',
      t(s.signing_time_source === 'timestamp' ? 'verify.source.timestamp' : 'verify.source.claimed')]
    : t('verify.unknown');
  return el('section', { class: 'signature', 'data-indication': s.indication, 'aria-label': heading },
    el('div', { class: 'signature-head' },
      el('h2', {}, heading),
      el('span', { class: `badge tone-${tone(s.indication)}` }, icon(tone(s.indication)), shortWord(s.indication))),
    el('div', { class: 'signature-body' },
      verdictBox(s.indication, s.subindication,
        s.reasons && s.reasons.length
          ? el('div', {}, el('p', {}, `${t('verify.reasons')}:`), reasonList('list-plain', s.reasons))
          : null),
      facts([
        [t('verify.signer'), signer.common_name || signer.subject],
        [t('verify.unit'), signer.unit],
        [t('verify.organization'), signer.organization],
        [t('verify.position'), signer.title],
        [t('verify.holder'), signer.holder && signer.holder !== 'unknown' ? t(`holder.${signer.holder}`) : null],
        [t('verify.identifiers'), (signer.identifiers || []).length
          ? el('span', { class: 'mono' }, signer.identifiers.map((i) => (i.kind === 'OTHER' ? i.value : `${i.kind}:${i.value}`)).join(', '))
          : null],
        [t('verify.signingTime'), el('span', { class: 'signing-time' }, time)],
        [t('verify.timestamp'), s.timestamp_time ? dateTime(s.timestamp_time) : null],
        [t('verify.issuer'), signer.issuer],
        [t('verify.serial'), signer.serial ? el('span', { class: 'mono' }, signer.serial) : null],
        [t('verify.field'), s.name],
        [t('verify.kind'), has(`format.${s.format}`) ? t(`format.${s.format}`) : s.format],
        [t('verify.algorithm'), s.signature_algorithm],
        [t('verify.coverage'), has(`coverage.${s.coverage}`) ? t(`coverage.${s.coverage}`) : s.coverage],
      ]),
      el('h3', {}, t('verify.checks')),
      el('ul', { class: 'checks' },
        ['intact', 'signature_valid', 'trusted', 'revocation', 'changes_permitted'].map((facet) => {
          const value = s[facet];
          const kind = value === 'passed' ? 'passed' : value === 'failed' ? 'failed' : 'indeterminate';
          return el('li', { class: `tone-text-${kind}`, 'data-facet': facet, 'data-value': value },
            icon(kind), el('span', {}, `${t(`facet.${facet}`)}: `, el('strong', {}, t(`facet.${value}`))));
        })),
      s.warnings && s.warnings.length
        ? [el('h3', {}, t('verify.warnings')), reasonList('list-plain warnings', s.warnings)]
        : null,
      scopePart(s.scope),
      changesPart(s),
      chainPart(s.chain || [], s.trust_anchor)));
}

/** An XML signature over part of a document: what it covers and what it leaves out. */
function scopePart(scope) {
  if (!scope || scope.whole_document) return null;
  const list = (items) => el('ul', { class: 'list-plain mono scope' }, items.map((x) => el('li', {}, x)));
  const covered = (scope.elements || []).map((e) => (e.id ? `${e.path} (${t('scope.id')} “${e.id}”)` : e.path));
  return [
    el('h3', {}, t('scope.title')),
    covered.length ? [el('p', {}, `${t('scope.covered')}:`), list(covered)] : null,
    (scope.detached || []).length ? [el('p', {}, `${t('scope.detached')}:`), list(scope.detached)] : null,
    (scope.not_covered || []).length
      ? [el('p', {}, `${t('scope.notCovered')}:`), list(scope.not_covered)]
      : null,
  ];
}

function changesPart(s) {
  const changes = s.changes || [];
  const title = el('h3', {}, t('verify.changes'));
  if (changes.length === 0) return [title, el('p', { class: 'changes-summary' }, t('verify.noChanges'))];
  const pages = [...new Set(changes.map((c) => c.page).filter((p) => p !== null && p !== undefined))]
    .sort((a, b) => a - b);
  const summary = el('p', { class: 'changes-summary' },
    t('verify.changesSummary', { n: count(changes.length), level: levelWords(s.modification) }),
    pages.length ? ` ${t('verify.changesPages', { pages: pages.join(', ') })}` : '');
  const shown = changes.slice(0, CHANGES_SHOWN);
  const table = el('div', { class: 'table-wrap' }, el('table', { class: 'changes' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('change.object')),
      el('th', { scope: 'col' }, t('change.kind')),
      el('th', { scope: 'col', class: 'num' }, t('change.page')),
      el('th', { scope: 'col' }, t('change.rule')),
      el('th', { scope: 'col' }, t('change.level')))),
    el('tbody', {}, shown.map((c) => el('tr', {},
      el('td', { class: 'mono' }, c.object),
      el('td', {}, has(`kind.${c.kind}`) ? t(`kind.${c.kind}`) : c.kind),
      el('td', { class: 'num' }, c.page === null || c.page === undefined ? '—' : String(c.page)),
      el('td', {}, lang() === 'vi' && c.rule_vi ? c.rule_vi : c.rule),
      el('td', {}, levelWords(c.level)))))));
  const more = changes.length > CHANGES_SHOWN
    ? el('p', { class: 'hint' }, `… +${count(changes.length - CHANGES_SHOWN)} — ${t('verify.download')}`)
    : null;
  return [title, summary, table, more];
}

/** How revocation was established for a chain link: the service's own Vietnamese words, or the
 * page's English gloss of the English code. */
function revocationWords(link) {
  if (lang() === 'vi' && link.revocation_vi) return link.revocation_vi;
  return has(`revocation.${link.revocation}`) ? t(`revocation.${link.revocation}`) : link.revocation;
}

function levelWords(level) {
  return has(`level.${level}`) ? t(`level.${level}`) : level;
}

function chainPart(chain, anchor) {
  const title = el('h3', {}, t('verify.chain'));
  if (chain.length === 0) return [title, el('p', { class: 'empty' }, t('chain.none'))];
  // Which national hierarchy the chain reached: an agency receives documents under both.
  const hierarchy = anchor ? (lang() === 'vi' ? anchor.hierarchy_name_vi : anchor.hierarchy_name) : null;
  const reached = anchor
    ? el('p', { class: 'trust-anchor', 'data-hierarchy': anchor.hierarchy || '' },
      `${t('chain.anchor')}: `, el('strong', {}, hierarchy || anchor.subject))
    : null;
  return [title, reached, el('div', { class: 'table-wrap' }, el('table', { class: 'chain' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('chain.position')),
      el('th', { scope: 'col' }, t('chain.subject')),
      el('th', { scope: 'col' }, t('chain.issuer')),
      el('th', { scope: 'col' }, t('chain.validity')),
      el('th', { scope: 'col' }, t('chain.revocation')))),
    el('tbody', {}, chain.map((link, i) => el('tr', {},
      el('td', {}, i === 0 ? t('chain.leaf')
        : link.subject === link.issuer ? t('chain.root') : t('chain.intermediate')),
      el('td', {}, link.subject),
      el('td', {}, link.issuer),
      el('td', { class: 'num' }, `${dateTime(link.not_before).split(' ')[0]} – ${dateTime(link.not_after).split(' ')[0]}`),
      el('td', {}, revocationWords(link))))))),
  ];
}
