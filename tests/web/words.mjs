// No English word in the Vietnamese verify page: run by tests/web.rs
// (`the_vietnamese_verify_page_has_no_english_word`) against a real `kyso serve`.
//
// Each document of the shared conformance set goes through the verify page (the file chooser,
// as a clerk does) in Vietnamese, then the same report is read in English. The rule, the same
// as `kyso::verify::reason`'s unit test:
//   - the vocabulary is every word of the English pages and of every English `message` of the
//     reports: the words kyso's English texts use;
//   - the data a report quotes is removed from the Vietnamese page first: file name, hashes,
//     signer and chain names, field names, algorithm names, object ids, XML paths (what the
//     document or its certificates write), and every span between “ ” quotes (how Vietnamese
//     reasons quote data), PDF names (`/Annots`), dotted identifiers (`adbe.pkcs7.detached`) and
//     anything holding a digit (hex, key ids, `SHA256`);
//   - a word is a run of letters, all lower-case or only capitalised (codes such as PDF,
//     TOTAL-PASSED or SignerInfo are not words);
//   - a word of the Vietnamese page is English when it is plain ASCII, two letters or more, in
//     the vocabulary, and not one of the few Vietnamese syllables English also writes.
// Every failure names the file, the words and their context; a screenshot is saved.
//
// Environment: KYSO_WEB_URL, KYSO_WEB_KEY (a file holding a verifier's API key), KYSO_WEB_FILES
// (a file listing the documents, one path a line), KYSO_WEB_ARTEFACTS, KYSO_WEB_CHROMIUM.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through \`cargo test web::\``);
  return value;
};
const BASE = need('KYSO_WEB_URL');
const KEY = fs.readFileSync(need('KYSO_WEB_KEY'), 'utf8').trim();
const FILES = fs.readFileSync(need('KYSO_WEB_FILES'), 'utf8').split('\n').filter(Boolean);
const ARTEFACTS = need('KYSO_WEB_ARTEFACTS');
const TIMEOUT = 60_000;

/** Vietnamese syllables without diacritics that English texts also write, and the product. */
const VIETNAMESE_ASCII = new Set(['an', 'in', 'do', 'kyso', 'byte', 'bit']);

/** The words of `text` the rule looks at, lower-cased (see the rule above). */
function words(text) {
  const plain = text
    .replace(/“[^”]*”/g, ' ')
    .replace(/\/[\p{L}\p{N}.]+/gu, ' ')
    .replace(/[\p{L}\p{N}]+(?:\.[\p{L}\p{N}]+)+/gu, ' ')
    .replace(/[\p{L}\p{N}]*\p{N}[\p{L}\p{N}]*/gu, ' ');
  return (plain.match(/\p{L}+/gu) || [])
    .filter((w) => [...w].slice(1).every((c) => c === c.toLowerCase() && c !== c.toUpperCase()))
    .map((w) => w.toLowerCase());
}

/** Every string of a report that is data (from the document or its certificates). */
function dataOf(report, out = []) {
  const add = (v) => { if (typeof v === 'string' && v.length > 0) out.push(v); };
  add(report.sha256);
  for (const s of report.signatures || []) {
    add(s.name);
    add(s.signature_algorithm);
    for (const v of Object.values(s.signer || {})) add(v);
    for (const link of s.chain || []) { add(link.subject); add(link.issuer); }
    for (const c of s.changes || []) add(c.object);
    const scope = s.scope || {};
    for (const e of scope.elements || []) { add(e.path); add(e.id); add(e.name); }
    for (const d of scope.detached || []) add(d);
    for (const d of scope.not_covered || []) add(d);
  }
  const pkg = report.package;
  if (pkg) {
    const walk = (v) => {
      if (typeof v === 'string') add(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg.header);
    for (const a of pkg.attachments || []) {
      add(a.name); add(a.content_id); add(a.content_type); add(a.entry); add(a.sha256);
      if (a.report) dataOf(a.report, out);
    }
    for (const c of pkg.checks || []) { add(c.header); add(c.found); add(c.source); }
  }
  return out;
}

/** Every English `message` of a report. */
function messagesOf(report, out = []) {
  const reasons = (list) => (list || []).forEach((r) => out.push(r.message));
  reasons(report.reasons);
  for (const s of report.signatures || []) {
    reasons(s.reasons);
    reasons(s.warnings);
    for (const c of s.changes || []) out.push(c.rule);
    for (const link of s.chain || []) out.push(link.revocation);
  }
  if (report.package) {
    reasons(report.package.warnings);
    for (const a of report.package.attachments || []) {
      reasons(a.reasons);
      if (a.report) messagesOf(a.report, out);
    }
  }
  return out;
}

async function verifyByApi(file) {
  const response = await fetch(`${BASE}/v1/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/octet-stream' },
    body: fs.readFileSync(file),
  });
  assert.equal(response.status, 200, `${file}: POST /v1/verify answered ${response.status}`);
  return response.json();
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kyso-web-words-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: need('KYSO_WEB_CHROMIUM'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1366, height: 900 },
  locale: 'vi-VN',
  acceptDownloads: true,
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] || await context.newPage();
page.on('filechooser', () => {});
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(String(error)));

async function setLanguage(wanted) {
  const now = await page.evaluate(() => document.documentElement.lang);
  if (now !== wanted) await page.click('#language');
  await page.waitForFunction((l) => document.documentElement.lang === l, wanted);
}

async function chooseFile(file) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#verify-choose')]);
  await chooser.setFiles(file);
  const name = path.basename(file);
  await page.waitForFunction((n) => {
    const status = document.getElementById('verify-status').textContent;
    return status.includes(n) && document.querySelector('#verify-result .verdict');
  }, name);
}

const pageText = () => page.evaluate(() => document.body.innerText);

let status = 0;
try {
  await page.goto(`${BASE}/web/`);
  await page.waitForSelector('#view-login:not([hidden])');
  await setLanguage('vi');
  await page.fill('#login-key', KEY);
  await page.click('#login-submit');
  await page.waitForSelector('#logout:not([hidden])');
  await page.waitForSelector('#verify-choose');

  const vocabulary = new Set();
  const seen = [];
  for (const file of FILES) {
    await setLanguage('vi');
    await chooseFile(file);
    const vietnamese = await pageText();
    await setLanguage('en');
    const english = await pageText();
    const report = await verifyByApi(file);
    for (const w of words(english)) vocabulary.add(w);
    for (const m of messagesOf(report)) for (const w of words(m)) vocabulary.add(w);
    const data = [path.basename(file), ...dataOf(report)].sort((a, b) => b.length - a.length);
    let stripped = vietnamese;
    for (const d of data) stripped = stripped.split(d).join(' ');
    seen.push({ file, stripped, reasons: messagesOf(report).length });
  }
  assert.ok(vocabulary.size > 300, `only ${vocabulary.size} English words: the English pages did not render`);
  assert.ok(vocabulary.has('signature') && vocabulary.has('changed'), 'the vocabulary lacks kyso\'s own English words');

  const failures = [];
  for (const { file, stripped } of seen) {
    const english = words(stripped)
      .filter((w) => w.length >= 2 && /^[a-z]+$/.test(w) && vocabulary.has(w) && !VIETNAMESE_ASCII.has(w));
    if (english.length) {
      const lines = stripped.split('\n').filter((l) => words(l).some((w) => english.includes(w)));
      failures.push(`${path.basename(file)}: ${[...new Set(english)].join(', ')}\n    ${lines.slice(0, 6).join('\n    ')}`);
    }
  }
  const reasons = seen.reduce((n, s) => n + s.reasons, 0);
  console.log(`${seen.length} documents, ${reasons} reasons and notes, ${vocabulary.size} English words in the vocabulary`);
  if (failures.length) {
    await setLanguage('vi');
    await page.screenshot({ path: path.join(ARTEFACTS, 'words-failure.png'), fullPage: true });
    throw new Error(`English words in the Vietnamese verify page:\n${failures.join('\n')}`);
  }
  // The printable record of the last document, through the page's button: the service's page,
  // in Vietnamese with English, naming the document by its hash.
  await setLanguage('vi');
  const last = FILES[FILES.length - 1];
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#verify-record')]);
  assert.equal(download.suggestedFilename(), `${path.basename(last)}.bien-ban.html`);
  const record = fs.readFileSync(await download.path(), 'utf8');
  const lastReport = await verifyByApi(last);
  for (const expected of ['BIÊN BẢN KIỂM TRA CHỮ KÝ SỐ', 'Signature verification record', lastReport.sha256,
    'Thời điểm kiểm tra', 'kyso ']) {
    assert.ok(record.includes(expected), `the record lacks ${expected}`);
  }
  assert.doesNotMatch(record, /<script/i);
  console.log('ok - the verification record downloads from the page');
  assert.deepEqual(pageErrors, [], 'the page raised errors');
  console.log('ok - no English word in the Vietnamese verify page');
} catch (error) {
  console.error(`not ok - ${error.stack || error}`);
  status = 1;
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(status);
