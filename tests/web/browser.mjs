// Browser tests of kyso's web pages, run by tests/web.rs against a real `kyso serve`.
//
// Debian's chromium, headless, driven by Playwright's core library (no bundled browser, no
// `playwright install`). Each step logs "ok - …"; the first failure saves a screenshot
// (failure-*.png), prints why, and exits 1. Every figure the pages show is compared with the
// API's own JSON, fetched here with the same keys.
//
// Environment (set by tests/web.rs): KYSO_WEB_URL, KYSO_WEB_KEYS (a JSON file of API keys by
// role), KYSO_WEB_DOCS (documents), KYSO_WEB_ARTEFACTS (screenshots), KYSO_WEB_CHROMIUM,
// KYSO_WEB_HOSTILE_NAME and KYSO_WEB_HOSTILE_NUMBER (markup that must show as text).

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
const KEYS = JSON.parse(fs.readFileSync(need('KYSO_WEB_KEYS'), 'utf8'));
const DOCS = need('KYSO_WEB_DOCS');
const ARTEFACTS = need('KYSO_WEB_ARTEFACTS');
const HOSTILE_NAME = need('KYSO_WEB_HOSTILE_NAME');
const HOSTILE_NUMBER = need('KYSO_WEB_HOSTILE_NUMBER');
const PERIOD = '2022-H1';
const TIMEOUT = 30_000;

// ---------------------------------------------------------------------------------------------
// The API, called from here (not from the page) for the figures to compare with.

async function api(method, urlPath, key, body, contentType) {
  const headers = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (contentType) headers['Content-Type'] = contentType;
  return fetch(`${BASE}${urlPath}`, { method, headers, body });
}

async function apiJson(urlPath, key) {
  const response = await api('GET', urlPath, key);
  assert.equal(response.status, 200, `${urlPath}: ${await response.clone().text()}`);
  return response.json();
}

async function verifyByApi(file) {
  const response = await api('POST', '/v1/verify', KEYS.verifier, fs.readFileSync(file), 'application/octet-stream');
  assert.equal(response.status, 200);
  return response.json();
}

const WORDS = await (await fetch(`${BASE}/web/verdict-words.json`)).json();

// ---------------------------------------------------------------------------------------------
// Reading numbers back from the page, in either language.

/** "44.003" (vi) or "44,003" (en) → 44003. */
function parseCount(text, lang) {
  const digits = text.replace(lang === 'vi' ? /\./g : /,/g, '').replace(/[^\d-]/g, '');
  return Number(digits);
}

/** "98,0%" or "98.0%" → 98.0; "—" → null. */
function parseRate(text, lang) {
  const t = text.trim();
  if (t === '—' || t === '') return null;
  const plain = lang === 'vi' ? t.replace(/\./g, '').replace(',', '.') : t.replace(/,/g, '');
  const number = Number.parseFloat(plain.replace(/[^\d.-]/g, ''));
  assert.ok(!Number.isNaN(number), `not a number: ${text}`);
  return number;
}

/** The page shows a rate with one decimal: it must be the API's rate, rounded. */
function sameRate(shown, apiRate, what) {
  if (apiRate === null) {
    assert.equal(shown, null, `${what}: the API has no rate, the page shows ${shown}`);
    return;
  }
  assert.ok(shown !== null && Math.abs(shown - apiRate) <= 0.05 + 1e-9,
    `${what}: page ${shown}, API ${apiRate}`);
}

// ---------------------------------------------------------------------------------------------
// The browser.

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kyso-web-chromium-'));
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

// Every request the pages make: to this service only, never with a key in the URL.
const requests = [];
context.on('request', (request) => requests.push(request));
// Every answer for the pages' own files, whose headers are checked (the policy on each).
const assets = [];
context.on('response', (response) => {
  if (new URL(response.url()).pathname.startsWith('/web/')) assets.push(response);
});
// Set while the test itself tries a markup sink, to see that Trusted Types refuse it.
let trustedTypesProbe = false;
// Answers this script makes up (page.route) to see how the page takes a failure; Chromium logs
// the failed status of each, which is then no script error.
const faked = new Set();
// Intercepting file choosers is switched on when the first listener is added, one round trip
// later; a listener from the start means no keypress can outrun it.
page.on('filechooser', () => {});
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(String(error)));
page.on('console', (message) => {
  // Chromium logs each refused request (4xx); the tests make some on purpose.
  if (message.type() !== 'error' || /the server responded with a status of 4\d\d/.test(message.text())) return;
  if (faked.has(message.location().url)) return;
  // The one Trusted Types violation is the test's own probe (a real one also throws, which
  // either is a 'pageerror' or leaves the page without what the steps wait for).
  if (/requires 'TrustedHTML' assignment/.test(message.text()) && trustedTypesProbe) return;
  pageErrors.push(message.text());
});

/** Answers the next request that `match`es (a URL predicate) with `answer` instead of the service. */
async function fakeOnce(match, answer) {
  await page.route(match, (route) => {
    faked.add(route.request().url());
    return route.fulfill(answer);
  }, { times: 1 });
}

/** A problem document (RFC 9457) as the service sends it, for fakeOnce. */
function problem(status, detail) {
  return {
    status,
    contentType: 'application/problem+json',
    body: JSON.stringify({ type: 'about:blank', title: 'failure', status, detail }),
  };
}

/**
 * Holds the next request that `match`es until `release()` is called, then lets it through to the
 * service; `done` resolves once its answer has been read by the page's fetch.
 */
async function holdOnce(match) {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  await page.route(match, async (route) => {
    await gate;
    await route.continue();
  }, { times: 1 });
  const done = page.waitForEvent('requestfinished', { predicate: (r) => match(new URL(r.url())), timeout: TIMEOUT });
  return { release, done };
}

let passed = 0;
let current = '';

async function step(name, body) {
  current = name;
  await body();
  passed += 1;
  console.log(`ok ${passed} - ${name}`);
}

async function shot(name) {
  await page.screenshot({ path: path.join(ARTEFACTS, `${name}.png`), fullPage: true });
}

const text = (selector) => page.locator(selector).first().innerText();
const lang = () => page.evaluate(() => document.documentElement.lang);

async function open(hash = '') {
  await page.goto(`${BASE}/web/${hash}`);
  await page.waitForFunction(() => !document.getElementById('view-login').hidden
    || document.querySelector('main > .view:not([hidden])'));
}

/** The key the page is logged in with: the page holds it where no script of ours can read it. */
let signedIn = null;

async function login(key) {
  await open();
  if (await page.locator('#logout').isVisible()) await page.click('#logout');
  await page.waitForSelector('#view-login:not([hidden])');
  await page.fill('#login-key', key);
  await page.click('#login-submit');
  await page.waitForSelector('#logout:not([hidden])');
  signedIn = key;
}

const activeName = () => page.evaluate(() => document.activeElement.id || document.activeElement.className);

async function setLanguage(wanted) {
  if ((await lang()) !== wanted) await page.click('#language');
  await page.waitForFunction((l) => document.documentElement.lang === l, wanted);
}

async function chooseFile(file) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#verify-choose')]);
  await chooser.setFiles(path.join(DOCS, file));
  await waitVerified(file);
}

async function dropFile(file) {
  const bytes = fs.readFileSync(path.join(DOCS, file)).toString('base64');
  const transfer = await page.evaluateHandle(({ data, name }) => {
    const raw = atob(data);
    const array = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += 1) array[i] = raw.charCodeAt(i);
    const dt = new DataTransfer();
    dt.items.add(new File([array], name, { type: 'application/octet-stream' }));
    return dt;
  }, { data: bytes, name: file });
  await page.dispatchEvent('#dropzone', 'dragenter', { dataTransfer: transfer });
  await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: transfer });
  await waitVerified(file);
}

async function waitVerified(file) {
  await page.waitForFunction((name) => {
    const status = document.getElementById('verify-status').textContent;
    return status.includes(name) && document.querySelector('#verify-result .verdict');
  }, file);
}

/** The document verdict and each signature as the page shows them. */
function readVerdict() {
  return page.evaluate(() => {
    const result = document.getElementById('verify-result');
    const box = result.querySelector('.verdict');
    return {
      indication: box.dataset.indication,
      words: box.querySelector('.verdict-word').textContent,
      tone: [...box.classList].find((c) => c.startsWith('tone-')),
      signatures: [...result.querySelectorAll('section.signature')].map((s) => ({
        indication: s.dataset.indication,
        heading: s.querySelector('h2').textContent,
        badge: s.querySelector('.badge').textContent,
        detail: (s.querySelector('.verdict-detail') || {}).textContent || null,
        facts: Object.fromEntries([...s.querySelectorAll('dl.document-facts dt')]
          .map((dt) => [dt.textContent, dt.nextElementSibling.textContent])),
        facets: Object.fromEntries([...s.querySelectorAll('[data-facet]')]
          .map((li) => [li.dataset.facet, li.dataset.value])),
        chain: [...s.querySelectorAll('table.chain tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent)),
        anchor: (s.querySelector('.trust-anchor') || {}).textContent || null,
        changes: [...s.querySelectorAll('table.changes tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent)),
        changesSummary: (s.querySelector('.changes-summary') || {}).textContent || '',
      })),
    };
  });
}

/** WCAG contrast ratio of an element's text colour on the background it sits on. */
function contrastOf(selector) {
  return page.evaluate((sel) => {
    const node = document.querySelector(sel);
    if (!node) return null;
    const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
      const c = [r, g, b].map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const background = (start) => {
      for (let n = start; n; n = n.parentElement) {
        const value = rgb(getComputedStyle(n).backgroundColor);
        if (value.length === 3 || (value.length === 4 && value[3] > 0)) return value.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const fg = luminance(rgb(getComputedStyle(node).color).slice(0, 3));
    const bg = luminance(background(node));
    return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  }, selector);
}

function ratio(hexA, hexB) {
  const lum = (hex) => {
    const v = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((s) => (s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4));
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const [a, b] = [lum(hexA), lum(hexB)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** Status of a request made from the page with the key it is logged in with. */
function pageFetchStatus(method, urlPath, body) {
  return page.evaluate(async ({ m, u, b, key }) => {
    const response = await fetch(u, {
      method: m,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/pdf' },
      body: b ? new Uint8Array(b) : undefined,
    });
    return response.status;
  }, { m: method, u: urlPath, b: body ? [...body] : null, key: signedIn });
}

/** Every entry of the page's sessionStorage and localStorage, as "name=value". */
function storedEntries() {
  return page.evaluate(() => [sessionStorage, localStorage]
    .flatMap((store) => Object.keys(store).map((name) => `${name}=${store.getItem(name)}`)));
}

/** The headers every file of the pages is served with, checked on each answer the browser got. */
const POLICY_FILES = ['/web/', '/web/app.css', '/web/icon.svg', '/web/app.js', '/web/api.js', '/web/dom.js',
  '/web/i18n.js', '/web/charts.js', '/web/errors.js', '/web/verify.js', '/web/dashboard.js', '/web/sign.js',
  '/web/verdict-words.json', '/web/levels.json'];

async function checkAssetHeaders() {
  const seen = new Set();
  for (const response of assets) {
    const { pathname } = new URL(response.url());
    if (response.status() === 404) continue; // the missing file asked for on purpose
    const headers = await response.allHeaders();
    const policy = headers['content-security-policy'] || '';
    assert.match(policy, /script-src 'self'/, `${pathname}: ${policy}`);
    assert.match(policy, /require-trusted-types-for 'script'/, `${pathname}: ${policy}`);
    assert.doesNotMatch(policy, /unsafe|data:|blob:/, `${pathname}: ${policy}`);
    assert.equal(headers['x-content-type-options'], 'nosniff', pathname);
    seen.add(pathname);
  }
  const missing = POLICY_FILES.filter((f) => !seen.has(f));
  assert.deepEqual(missing, [], 'every file of the pages was loaded and checked');
}

/** Fills the picker, submits, and waits until the report for exactly these settings shows. */
async function submitPeriod(fill, period, { level = '', unit = '' } = {}) {
  await fill();
  await page.click('#dash-form button[type=submit]');
  await waitReport(period, { level, unit });
}

async function waitReport(period, { level = '', unit = '' } = {}) {
  await page.waitForFunction((want) => {
    const result = document.getElementById('dash-result');
    return result.dataset.period === want.period && result.dataset.level === want.level
      && result.dataset.unit === want.unit && result.querySelector('#card-issued');
  }, { period, level, unit });
}

/** Cards, level rows, trend rows and unit rows of the dashboard, as text. */
function readDashboard() {
  return page.evaluate(() => {
    const cell = (row, col) => row.querySelector(`[data-col="${col}"]`).textContent;
    const rows = (selector, key) => Object.fromEntries([...document.querySelectorAll(selector)]
      .map((tr) => [tr.dataset[key], {
        issued: cell(tr, 'issued'),
        declared: cell(tr, 'declared'),
        verified: cell(tr, 'verified'),
        gap: cell(tr, 'gap'),
      }]));
    const card = (id) => document.querySelector(`#${id} .card-value`).textContent;
    const note = (id) => document.querySelector(`#${id} .card-note`).textContent;
    return {
      issued: card('card-issued'),
      declared: card('card-declared'),
      verified: card('card-verified'),
      gap: card('card-gap'),
      declaredNote: note('card-declared'),
      verifiedNote: note('card-verified'),
      gapNote: note('card-gap'),
      levels: rows('#levels-table tbody tr', 'level'),
      months: rows('#trend-table tbody tr', 'month'),
      units: rows('#units-table tbody tr', 'unit'),
      heading: document.getElementById('report-heading').textContent,
    };
  });
}

function compareDashboard(shown, report, trend, language) {
  assert.equal(parseCount(shown.issued, language), report.overall.issued, 'documents issued');
  sameRate(parseRate(shown.declared, language), report.overall.declared_rate, 'declared rate');
  sameRate(parseRate(shown.verified, language), report.overall.verified_rate, 'verified rate');
  sameRate(parseRate(shown.gap, language), report.overall.gap_points, 'gap');
  // The cards' notes: how many documents each rate counts.
  assert.equal(parseCount(shown.declaredNote, language), report.overall.declared_signed, 'declared signed');
  assert.equal(parseCount(shown.verifiedNote, language), report.overall.verified_signed, 'verified signed');
  assert.equal(parseCount(shown.gapNote, language), report.overall.declared_unverified, 'declared unverified');
  assert.deepEqual(Object.keys(shown.levels), report.levels.map((l) => l.level), 'levels listed');
  for (const level of report.levels) {
    sameRow(shown.levels[level.level], level.rates, level.level, language);
  }
  assert.deepEqual(Object.keys(shown.months), trend.months.map((m) => m.month), 'months of the trend');
  for (const month of trend.months) {
    sameRow(shown.months[month.month], month.overall, month.month, language);
  }
  assert.equal(Object.keys(shown.units).length, report.units.length, 'every unit listed');
  for (const unit of report.units) {
    const row = shown.units[unit.code];
    assert.ok(row, `unit ${unit.code} listed`);
    sameRow(row, unit.own, unit.code, language);
  }
}

/** A table row (issued, declared, verified, gap) against the API's rates of that row. */
function sameRow(row, rates, what, language) {
  assert.equal(parseCount(row.issued, language), rates.issued, `${what} issued`);
  sameRate(parseRate(row.declared, language), rates.declared_rate, `${what} declared`);
  sameRate(parseRate(row.verified, language), rates.verified_rate, `${what} verified`);
  sameRate(parseRate(row.gap, language), rates.gap_points, `${what} gap`);
}

// ---------------------------------------------------------------------------------------------

try {
  await step('the service\'s root leads to the pages, served with a strict policy', async () => {
    const response = await page.goto(`${BASE}/`);
    assert.equal(new URL(page.url()).pathname, '/web/');
    const policy = response.headers()['content-security-policy'];
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe/);
    assert.equal(response.headers()['x-content-type-options'], 'nosniff');
    const missing = await api('GET', '/web/no-such-page.js');
    assert.equal(missing.status, 404);
    // The page boots under the policy (Trusted Types required), then every file it loaded,
    // scripts and style sheet included, carries the policy itself.
    await page.waitForSelector('#view-login:not([hidden])');
    await checkAssetHeaders();
    // Trusted Types are enforced: markup assigned as a string is refused, not parsed.
    trustedTypesProbe = true;
    const sink = await page.evaluate(() => {
      try {
        document.createElement('div').innerHTML = '<b>markup</b>';
        return 'parsed';
      } catch (error) {
        return error.name;
      }
    });
    assert.equal(sink, 'TypeError');
  });

  await step('the page is Vietnamese by default, labelled, and asks for a key', async () => {
    await open();
    assert.equal(await lang(), 'vi');
    assert.equal(await text('#login-title'), 'Đăng nhập');
    assert.equal(await page.title(), 'Ký số và xác minh văn bản điện tử');
    const landmarks = await page.evaluate(() => ['header', 'main', 'footer']
      .map((tag) => document.getElementsByTagName(tag).length));
    assert.deepEqual(landmarks, [1, 1, 1]);
    assert.equal(await page.getAttribute('#login-key', 'type'), 'password');
    assert.equal(await page.locator('label[for="login-key"]').innerText(), 'Khóa API');
    await shot('login');
  });

  await step('a malformed or unknown key is refused, in words', async () => {
    await page.fill('#login-key', 'not a key');
    await page.click('#login-submit');
    await page.waitForSelector('#login-error:not([hidden])');
    assert.match(await text('#login-error'), /kyso_/);
    await page.fill('#login-key', `kyso_0123456789abcdef_${'A'.repeat(43)}`);
    await page.click('#login-submit');
    await page.waitForFunction(() => document.getElementById('login-error').textContent.includes('không đúng'));
    await shot('login-refused');
    trustedTypesProbe = false;
    assert.deepEqual((await storedEntries()).filter((e) => e.includes('kyso_')), []);
  });

  await step('a clerk (verifier key) sees the verify page only', async () => {
    await login(KEYS.verifier);
    await page.waitForSelector('#view-verify:not([hidden])');
    assert.ok(await page.isVisible('#nav-verify'));
    assert.ok(!(await page.isVisible('#nav-dashboard')), 'no reports link for a clerk');
    assert.ok(!(await page.isVisible('#nav-sign')), 'no signing link for a clerk');
    assert.match(await text('#whoami'), /văn thư/);
    await page.goto(`${BASE}/web/#/dashboard?period=${PERIOD}`);
    await page.waitForSelector('#view-denied:not([hidden])');
    assert.match(await text('#denied-text'), /không được xem báo cáo/);
    assert.ok(!(await page.isVisible('#view-dashboard')));
    await shot('clerk-no-reports');
    // The page only hides what the service refuses anyway.
    assert.equal(await pageFetchStatus('GET', `/v1/reports/signing-rate?period=${PERIOD}`), 403);
    assert.equal(await pageFetchStatus('GET', `/v1/reports/signing-rate/trend?period=${PERIOD}`), 403);
  });

  await step('the key is held by the open page only: no browser storage has it, a reload asks again', async () => {
    // sessionStorage comes back with "reopen closed tab" and a restored session: on a shared
    // clerk PC, the next person would be logged in as this one.
    const stored = await storedEntries();
    assert.deepEqual(stored.filter((e) => e.includes('kyso_') || e.includes(KEYS.verifier.split('_').slice(2).join('_'))), [],
      `storage: ${stored}`);
    await page.reload();
    await page.waitForSelector('#view-login:not([hidden])');
    assert.ok(!(await page.isVisible('#logout')), 'logged out by the reload');
    assert.ok(!(await page.isVisible('#view-denied')) && !(await page.isVisible('#view-verify')));
    assert.equal(await activeName(), 'login-key');
    await login(KEYS.verifier);
  });

  await step('a valid PDF chosen with the button reads VALID, with signer, unit, time and chain', async () => {
    await open('#/verify');
    await chooseFile('valid.pdf');
    const expected = await verifyByApi(path.join(DOCS, 'valid.pdf'));
    const shown = await readVerdict();
    assert.equal(shown.indication, 'TOTAL-PASSED');
    assert.equal(shown.indication, expected.indication);
    assert.equal(shown.words, WORDS.vi.indication['TOTAL-PASSED']);
    assert.equal(shown.tone, 'tone-passed');
    assert.equal(shown.signatures.length, expected.signatures.length);
    const [sig] = shown.signatures;
    const [apiSig] = expected.signatures;
    assert.match(sig.badge, /HỢP LỆ/);
    assert.equal(sig.facts['Người ký'], apiSig.signer.common_name);
    assert.equal(sig.facts['Đơn vị'], apiSig.signer.unit);
    assert.equal(sig.facts['Đơn vị'], 'Sở Tư pháp');
    assert.match(sig.facts['Thời gian ký'], /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} \(UTC\+7\) — do người ký tự khai/);
    assert.equal(apiSig.signing_time_source, 'claimed');
    for (const facet of ['intact', 'signature_valid', 'trusted', 'revocation', 'changes_permitted']) {
      assert.equal(sig.facets[facet], apiSig[facet], facet);
    }
    assert.equal(sig.chain.length, apiSig.chain.length);
    assert.equal(sig.chain[0][1], apiSig.chain[0].subject);
    assert.match(sig.chain[0][4], /chưa bị thu hồi/);
    // The anchor the chain reached (a configured root: no national hierarchy, its subject).
    assert.equal(sig.anchor, `Gốc tin cậy: ${apiSig.trust_anchor.subject}`);
    assert.equal(sig.changesSummary, 'Không có thay đổi nào sau khi ký.');
    // The live region announces the verdict itself, not only that the check is over.
    assert.equal(await text('#verify-status'), 'Đã kiểm tra xong valid.pdf: HỢP LỆ.');
    await shot('verify-valid');
  });

  await step('the Decree 30 form checks, when the service runs them, are a line of their own in the page\'s language', async () => {
    // The service runs them when asked (check=decree30) or configured; the page only shows them.
    const asked = (route) => route.continue({ url: `${route.request().url()}?check=decree30` });
    await page.route('**/v1/verify', asked);
    await chooseFile('valid.pdf');
    const line = page.locator('#verify-decree30');
    await line.waitFor();
    // The test certificates name neither person nor organisation: not in due form, and said why.
    assert.match(await line.innerText(), /^Thể thức chữ ký số \(Nghị định 30\/2020\/NĐ-CP\): chưa đúng thể thức — không xác định được/);
    assert.equal(await line.getAttribute('data-passed'), 'false');
    assert.equal((await readVerdict()).indication, 'TOTAL-PASSED', 'the ETSI verdict is unchanged');
    await setLanguage('en');
    assert.match(await text('#verify-decree30'), /^Signature form \(Decree 30\/2020\/NĐ-CP\): not in due form — cannot tell/);
    await setLanguage('vi');
    await page.unroute('**/v1/verify', asked);
    await chooseFile('valid.pdf');
    assert.equal(await page.locator('#verify-decree30').count(), 0, 'absent when not run');
  });

  await step('the JSON report downloads as the service sent it', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#verify-download')]);
    assert.equal(download.suggestedFilename(), 'valid.pdf.kyso-report.json');
    const report = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    const expected = await verifyByApi(path.join(DOCS, 'valid.pdf'));
    assert.equal(report.sha256, expected.sha256);
    assert.equal(report.indication, 'TOTAL-PASSED');
  });

  await step('a tampered PDF dropped on the drop zone reads INVALID: content changed', async () => {
    await dropFile('tampered.pdf');
    const expected = await verifyByApi(path.join(DOCS, 'tampered.pdf'));
    const shown = await readVerdict();
    assert.equal(shown.indication, 'TOTAL-FAILED');
    assert.equal(expected.indication, 'TOTAL-FAILED');
    assert.equal(shown.tone, 'tone-failed');
    assert.equal(shown.words, WORDS.vi.indication['TOTAL-FAILED']);
    const [sig] = shown.signatures;
    assert.match(sig.badge, /KHÔNG HỢP LỆ/);
    assert.equal(sig.detail, WORDS.vi.sub_indication[expected.signatures[0].subindication]);
    assert.equal(expected.signatures[0].subindication, 'HASH_FAILURE');
    assert.equal(sig.facets.intact, 'failed');
    assert.equal(await text('#verify-status'), 'Đã kiểm tra xong tampered.pdf: KHÔNG HỢP LỆ.');
    await shot('verify-tampered');
  });

  await step('a PDF changed after signing names the changed objects, their page and rule', async () => {
    await chooseFile('changed.pdf');
    const expected = await verifyByApi(path.join(DOCS, 'changed.pdf'));
    const shown = await readVerdict();
    assert.equal(shown.indication, expected.indication);
    assert.equal(shown.indication, 'TOTAL-FAILED');
    const [sig] = shown.signatures;
    const apiChanges = expected.signatures[0].changes;
    assert.ok(apiChanges.length > 0);
    assert.equal(sig.changes.length, apiChanges.length);
    for (const [i, change] of apiChanges.entries()) {
      assert.equal(sig.changes[i][0], change.object);
      assert.equal(sig.changes[i][2], change.page === null ? '—' : String(change.page));
      // The page is Vietnamese: each rule by its Vietnamese name, as the service gives it.
      assert.equal(sig.changes[i][3], change.rule_vi);
    }
    assert.ok(sig.changes.some((row) => row[2] === '1' && row[3] === 'không quy tắc nào cho phép'), JSON.stringify(sig.changes));
    assert.match(sig.changesSummary, /Trang bị ảnh hưởng: 1\./);
    await shot('verify-changed');
  });

  await step('an unsigned PDF reads INDETERMINATE (amber): no signature', async () => {
    await chooseFile('letter.pdf');
    const shown = await readVerdict();
    assert.equal(shown.indication, 'INDETERMINATE');
    assert.equal(shown.tone, 'tone-indeterminate');
    assert.equal(shown.words, WORDS.vi.indication.INDETERMINATE);
    assert.equal(shown.signatures.length, 0);
    assert.equal(await text('#verify-result .empty'), 'Văn bản không mang chữ ký số nào.');
    assert.match(await text('#verify-result .verdict'), new RegExp(WORDS.vi.sub_indication.SIGNED_DATA_NOT_FOUND));
    assert.ok((await contrastOf('#verify-result .verdict .verdict-word')) >= 4.5, 'indeterminate verdict');
    await shot('verify-unsigned');
  });

  await step('an edXML package shows its header and its attachment with its own verdict', async () => {
    await chooseFile('package.edxml');
    const shown = await readVerdict();
    assert.equal(shown.indication, 'TOTAL-PASSED');
    assert.match(await text('#verify-result .package h2'), /Gói tin edXML/);
    assert.match(await text('#verify-result .package .document-facts'), /123\/QĐ-UBND/);
    assert.equal(await text('#verify-result .package > .empty'),
      'Gói tin không có chữ ký số của đơn vị gửi; kết luận dựa trên các tệp đính kèm.');
    const attachments = await page.$$eval('#verify-result .attachment',
      (sections) => sections.map((s) => ({
        indication: s.dataset.indication,
        signatures: s.querySelectorAll('.signature').length,
      })));
    assert.deepEqual(attachments, [{ indication: 'TOTAL-PASSED', signatures: 1 }]);
    const signer = await page.$eval('#verify-result .package-checks tr[data-outcome="match"]',
      (row) => row.innerText);
    assert.match(signer, /Trần Thị Bình — .*› Signature1/);
    await shot('verify-edxml');
  });

  await step('a signed XML document reads VALID', async () => {
    await chooseFile('signed.xml');
    const shown = await readVerdict();
    assert.equal(shown.indication, 'TOTAL-PASSED');
    assert.equal(shown.signatures[0].facts['Phạm vi chữ ký'], 'toàn bộ nội dung văn bản XML');
  });

  await step('an XML signature over one element says what it signs and what it leaves out', async () => {
    await chooseFile('invoice.xml');
    const expected = await verifyByApi(path.join(DOCS, 'invoice.xml'));
    const scope = expected.signatures[0].scope;
    assert.equal(scope.whole_document, false, 'the API reports a partial scope');
    const shown = await readVerdict();
    assert.equal(shown.signatures.length, 1);
    assert.equal(shown.signatures[0].facts['Phạm vi chữ ký'], 'một phần văn bản XML (xem phạm vi đã ký)');
    const lists = await page.evaluate(() => {
      const section = document.querySelector('#verify-result section.signature');
      const heading = [...section.querySelectorAll('h3')].find((h) => h.textContent === 'Phạm vi đã ký');
      return {
        heading: Boolean(heading),
        items: [...section.querySelectorAll('ul.scope')].map((ul) => [...ul.children].map((li) => li.textContent)),
      };
    });
    assert.ok(lists.heading, 'a "signed scope" heading');
    // The page is Vietnamese: an element's Id is its "định danh", quoted as data.
    const covered = scope.elements.map((e) => (e.id ? `${e.path} (định danh “${e.id}”)` : e.path));
    assert.deepEqual(lists.items[0], covered, 'the signed elements, as the API names them');
    assert.ok(covered.some((c) => c.includes('DLHDon') && c.includes('định danh “data”')), `the invoice data is signed: ${covered}`);
    assert.deepEqual(lists.items.at(-1), scope.not_covered, 'what the signature does not protect');
    assert.ok(scope.not_covered.some((c) => c.includes('MCCQT')), `the tax code is not covered: ${scope.not_covered}`);
    await shot('verify-xml-partial-scope');
  });

  await step('an answer the page cannot read is explained in words, the technical detail marked English', async () => {
    // A proxy's login page instead of the service's JSON, say: JSON.parse throws a SyntaxError,
    // whose English text must not be all the clerk reads.
    await fakeOnce((url) => url.pathname === '/v1/verify',
      { status: 200, contentType: 'text/html', body: '<html><body>proxy login</body></html>' });
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#verify-choose')]);
    await chooser.setFiles(path.join(DOCS, 'valid.pdf'));
    await page.waitForSelector('#verify-result .notice-failed');
    const notice = page.locator('#verify-result .notice-failed');
    assert.match(await notice.innerText(), /^Trang gặp lỗi khi xử lý câu trả lời của máy chủ\./);
    assert.match(await notice.locator('span[lang="en"]').innerText(), /^SyntaxError/);
    assert.match(await text('#verify-status'), /Không kiểm tra được valid\.pdf/);
    await setLanguage('en');
    assert.match(await notice.innerText(), /^The page could not handle the answer from the service\./);
    assert.match(await notice.innerText(), /Technical detail: SyntaxError/);
    await setLanguage('vi');
    await shot('verify-unreadable-answer');
  });

  await step('English on a switch, with the verdict words of kyso verify', async () => {
    await chooseFile('tampered.pdf');
    await setLanguage('en');
    assert.equal(await text('#verify-title'), 'Verify the signatures on a document');
    assert.equal(await page.locator('#language').innerText(), 'Tiếng Việt');
    assert.equal(await page.getAttribute('#language', 'lang'), 'vi');
    const shown = await readVerdict();
    assert.equal(shown.words, WORDS.en.indication['TOTAL-FAILED']);
    assert.equal(shown.signatures[0].detail, WORDS.en.sub_indication.HASH_FAILURE);
    assert.match(shown.signatures[0].badge, /INVALID/);
    await shot('verify-tampered-en');
    await setLanguage('vi');
    assert.equal(await text('#verify-title'), 'Xác minh chữ ký số trên văn bản');
    assert.equal((await readVerdict()).words, WORDS.vi.indication['TOTAL-FAILED']);
  });

  await step('the verify page works from the keyboard, with a visible focus', async () => {
    // A reload logs out; logging in from the keyboard, the focus starts in the key field.
    await open('#/verify');
    await page.reload();
    await page.waitForSelector('#view-login:not([hidden])');
    assert.equal(await activeName(), 'login-key');
    await page.keyboard.type(KEYS.verifier);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#view-verify:not([hidden])');
    signedIn = KEYS.verifier;
    // The new view takes the focus to its heading, for screen readers and for Tab.
    await page.waitForFunction(() => document.activeElement.id === 'verify-title');
    // Backwards from the heading to the top: the header's controls, then the skip link first.
    const back = [];
    for (let i = 0; i < 8 && back.at(-1) !== 'skip-link'; i += 1) {
      await page.keyboard.press('Shift+Tab');
      back.push(await activeName());
    }
    const header = back.reverse();
    assert.equal(header[0], 'skip-link', `the skip link is reached, before the rest: ${header}`);
    const language = header.indexOf('language');
    assert.ok(language > 0, `the language switch is reachable: ${header}`);
    assert.ok(language < header.indexOf('nav-verify'), `the language switch before the tabs: ${header}`);
    // Forwards from the skip link: the same stops, then the drop zone's button.
    const order = ['skip-link'];
    for (let i = 0; i < 8 && order.at(-1) !== 'verify-choose'; i += 1) {
      await page.keyboard.press('Tab');
      order.push(await activeName());
    }
    assert.deepEqual(order.slice(0, header.length), header, `the same order both ways: ${order}`);
    assert.equal(order.at(-1), 'verify-choose', `the drop zone's button is reachable: ${order}`);
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    assert.equal(outline, 'solid 3px');
    // The viewport only: a full-page capture resizes the window, which may move the focus.
    await page.screenshot({ path: path.join(ARTEFACTS, 'verify-keyboard-focus.png') });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'verify-choose');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    await chooser.setFiles(path.join(DOCS, 'valid.pdf'));
    await waitVerified('valid.pdf');
    // Every visible control has a label.
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, button')]
      .filter((n) => n.offsetParent !== null && n.getAttribute('aria-hidden') !== 'true')
      .filter((n) => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !n.textContent.trim())
      .map((n) => n.id || n.outerHTML.slice(0, 60)));
    assert.deepEqual(unlabelled, []);
  });

  await step('verdict colours, text and chart bars have enough contrast', async () => {
    await chooseFile('valid.pdf');
    assert.ok((await contrastOf('#verify-result .verdict .verdict-word')) >= 4.5, 'passed verdict');
    assert.ok((await contrastOf('#verify-result .badge')) >= 4.5, 'passed badge');
    await chooseFile('tampered.pdf');
    assert.ok((await contrastOf('#verify-result .verdict .verdict-word')) >= 4.5, 'failed verdict');
    assert.ok((await contrastOf('#verify-result .badge')) >= 4.5, 'failed badge');
    assert.ok((await contrastOf('.lead')) >= 4.5, 'muted text');
    assert.ok((await contrastOf('#verify-title')) >= 7, 'headings');
    assert.ok((await contrastOf('.tabs a')) >= 4.5, 'navigation');
    assert.ok(ratio('#1f4e79', '#ffffff') >= 3 && ratio('#2b7a4b', '#ffffff') >= 3, 'chart bars');
  });

  await step('logging out forgets the key and the last clerk\'s result', async () => {
    assert.ok(await page.isVisible('#verify-result .verdict'), 'a result to forget');
    await page.click('#logout');
    await page.waitForSelector('#view-login:not([hidden])');
    signedIn = null;
    const left = await page.evaluate(() => ({
      result: document.getElementById('verify-result').childElementCount,
      status: document.getElementById('verify-status').textContent,
      named: document.querySelector('main').textContent.includes('tampered.pdf'),
    }));
    assert.deepEqual(left, { result: 0, status: '', named: false });
    assert.deepEqual((await storedEntries()).filter((e) => e.includes('kyso_')), []);
    // The next clerk's page has no way back to it either.
    await login(KEYS.verifier);
    await page.waitForSelector('#view-verify:not([hidden])');
    assert.equal(await page.locator('#verify-result > *').count(), 0);
  });

  await step('a verdict that arrives after logout does not fill the next clerk\'s page', async () => {
    const held = await holdOnce((url) => url.pathname === '/v1/verify');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#verify-choose')]);
    await chooser.setFiles(path.join(DOCS, 'valid.pdf'));
    await page.waitForFunction(() => document.getElementById('verify-status').textContent.includes('valid.pdf'));
    await page.click('#logout');
    await page.waitForSelector('#view-login:not([hidden])');
    signedIn = null;
    held.release();
    await held.done;
    // The page has read the answer by now; give its handlers a moment to (not) draw it.
    await page.evaluate(() => new Promise((resolve) => { setTimeout(resolve, 300); }));
    const left = await page.evaluate(() => ({
      result: document.getElementById('verify-result').childElementCount,
      status: document.getElementById('verify-status').textContent,
      button: document.getElementById('verify-choose').disabled,
    }));
    assert.deepEqual(left, { result: 0, status: '', button: false });
  });

  let report;
  let trend;
  await step('an auditor reads the dashboard, and its figures are the API\'s', async () => {
    await login(KEYS.auditor);
    await page.waitForSelector('#view-dashboard:not([hidden])');
    assert.ok(!(await page.isVisible('#nav-verify')));
    assert.ok(!(await page.isVisible('#nav-sign')));
    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'half');
      await page.fill('#period-year', '2022');
      await page.selectOption('#period-half', '1');
    }, PERIOD);
    assert.match(page.url(), /#\/dashboard\?period=2022-H1/);
    report = await apiJson(`/v1/reports/signing-rate?period=${PERIOD}&format=json`, KEYS.auditor);
    trend = await apiJson(`/v1/reports/signing-rate/trend?period=${PERIOD}`, KEYS.auditor);
    const shown = await readDashboard();
    compareDashboard(shown, report, trend, 'vi');
    assert.equal(shown.declared, '98,0%');
    assert.equal(trend.months.length, 6);
    // The charts are drawn: a bar per level and rate, a point per month and rate.
    const bars = await page.locator('#levels-title ~ .chart svg g.chart-row rect').count();
    assert.equal(bars, report.levels.filter((l) => l.rates.declared_rate !== null).length * 2);
    const points = await page.locator('#trend-title ~ .chart svg circle').count();
    assert.equal(points, trend.months.filter((m) => m.overall.declared_rate !== null).length);
    await page.evaluate(() => document.querySelectorAll('details.data').forEach((d) => { d.open = false; }));
    await shot('dashboard');
  });

  await step('"show all units" redraws the chart and keeps the keyboard\'s place', async () => {
    const rows = () => page.locator('#units-chart-title ~ .chart svg g.chart-row').count();
    const withRates = report.units.filter((u) => u.own.declared_rate !== null).length;
    assert.ok(withRates > 15, `${withRates} units with documents`);
    assert.equal(await rows(), 15);
    await page.focus('#units-more');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('units-more').getAttribute('aria-expanded') === 'true');
    assert.equal(await rows(), withRates);
    // The button was drawn anew: the focus is on the new one, not dropped to <body>.
    assert.equal(await activeName(), 'units-more');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('units-more').getAttribute('aria-expanded') === 'false');
    assert.equal(await rows(), 15);
    assert.equal(await activeName(), 'units-more');
  });

  await step('a unit named with markup shows as text, and its unsigned documents list', async () => {
    const row = page.locator('#units-table tr[data-unit="XSS"]');
    assert.equal(await row.locator('.name').innerText(), HOSTILE_NAME);
    const chartLabels = await page.locator('#units-chart-title ~ .chart svg text').allTextContents();
    assert.ok(chartLabels.some((l) => l.startsWith('Sở <script>')), 'the chart shows the name as text');
    await row.locator('a').click();
    await waitReport(PERIOD, { unit: 'XSS' });
    assert.match(page.url(), /unit=XSS/);
    const scoped = await apiJson(`/v1/reports/signing-rate?period=${PERIOD}&unit=XSS&format=json`, KEYS.auditor);
    assert.ok((await text('#report-heading')).endsWith(HOSTILE_NAME));
    const numbers = await page.locator('#unsigned-table tbody td:nth-child(2)').allTextContents();
    assert.deepEqual(numbers, scoped.unsigned.documents.map((d) => d.number));
    assert.ok(numbers.includes(HOSTILE_NUMBER), 'the document number shows as text');
    const injected = await page.evaluate(() => ({
      scripts: document.querySelectorAll('#dash-result script, #dash-result img').length,
      ran: window.__xss === undefined ? null : window.__xss,
    }));
    assert.deepEqual(injected, { scripts: 0, ran: null });
    const shownTotal = parseCount((await text('#unsigned-count')).split('/')[1], 'vi');
    assert.equal(shownTotal, scoped.unsigned.total);
    await shot('dashboard-unit-with-markup');
  });

  await step('drill-down to a unit: its unsigned documents are the API\'s', async () => {
    await page.goto(`${BASE}/web/#/dashboard?period=${PERIOD}&unit=STP`);
    await waitReport(PERIOD, { unit: 'STP' });
    assert.match(await text('#report-heading'), /Sở Tư pháp$/);
    const scoped = await apiJson(`/v1/reports/signing-rate?period=${PERIOD}&unit=STP&format=json`, KEYS.auditor);
    const ids = await page.locator('#unsigned-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.document));
    assert.deepEqual(ids, scoped.unsigned.documents.map((d) => d.document_id));
    assert.equal(parseCount(await text('#card-issued .card-value'), 'vi'), scoped.overall.issued);
    assert.ok(await page.isVisible('.breadcrumb a'), 'a way back to every unit');
    await shot('dashboard-drill-down');
    await page.click('.breadcrumb a');
    await waitReport(PERIOD);
    assert.equal(await page.locator('.breadcrumb').count(), 0);
  });

  await step('CSV export is the API\'s CSV', async () => {
    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'half');
      await page.fill('#period-year', '2022');
      await page.selectOption('#period-half', '1');
    }, PERIOD);
    // The form changed since, but not submitted: the file is still the report on screen.
    await page.selectOption('#period-kind', 'month');
    await page.selectOption('#period-month', '03');
    await page.selectOption('#dash-level', 'commune');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dash-csv')]);
    assert.equal(download.suggestedFilename(), 'kyso-signing-rate-2022-H1.csv');
    const saved = fs.readFileSync(await download.path(), 'utf8');
    const expected = await (await api('GET', `/v1/reports/signing-rate?period=${PERIOD}&format=csv`, KEYS.auditor)).text();
    assert.equal(saved, expected);
    await page.selectOption('#dash-level', '');
  });

  await step('a failed CSV export is explained, and the report stays on screen', async () => {
    const before = await readDashboard();
    await fakeOnce((url) => url.pathname === '/v1/reports/signing-rate' && url.searchParams.get('format') === 'csv',
      problem(503, 'the ledger is busy'));
    await page.click('#dash-csv');
    await page.waitForSelector('#dash-notice .notice-failed');
    assert.match(await text('#dash-notice .notice-failed'), /Máy chủ đang bận/);
    assert.match(await text('#dash-notice .notice-failed'), /the ledger is busy/);
    assert.deepEqual(await readDashboard(), before, 'the report is still the one shown before');
    await shot('dashboard-csv-failed');
  });

  await step('the period picker: a month (with a 12-month trend), a quarter, a custom range, a level', async () => {
    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'month');
      await page.fill('#period-year', '2022');
      await page.selectOption('#period-month', '03');
    }, '2022-03');
    let expected = await apiJson('/v1/reports/signing-rate?period=2022-03&format=json', KEYS.auditor);
    let expectedTrend = await apiJson('/v1/reports/signing-rate/trend?period=2021-04-01..2022-03-31', KEYS.auditor);
    compareDashboard(await readDashboard(), expected, expectedTrend, 'vi');
    assert.equal(expectedTrend.months.length, 12);
    await shot('dashboard-month');

    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'quarter');
      await page.selectOption('#period-quarter', '2');
    }, '2022-Q2');
    expected = await apiJson('/v1/reports/signing-rate?period=2022-Q2&format=json', KEYS.auditor);
    expectedTrend = await apiJson('/v1/reports/signing-rate/trend?period=2022-Q2', KEYS.auditor);
    compareDashboard(await readDashboard(), expected, expectedTrend, 'vi');

    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'custom');
      await page.fill('#period-from', '2022-02-15');
      await page.fill('#period-to', '2022-04-10');
    }, '2022-02-15..2022-04-10');
    expected = await apiJson('/v1/reports/signing-rate?period=2022-02-15..2022-04-10&format=json', KEYS.auditor);
    expectedTrend = await apiJson('/v1/reports/signing-rate/trend?period=2022-02-15..2022-04-10', KEYS.auditor);
    compareDashboard(await readDashboard(), expected, expectedTrend, 'vi');
    assert.equal(expectedTrend.months.length, 3);

    // Longer than the API's trend (60 months): the report, and the trend of its last 60 months.
    const long = '2015-01-01..2022-06-30';
    assert.equal((await api('GET', `/v1/reports/signing-rate/trend?period=${long}`, KEYS.auditor)).status, 400);
    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'custom');
      await page.fill('#period-from', '2015-01-01');
      await page.fill('#period-to', '2022-06-30');
    }, long);
    expected = await apiJson(`/v1/reports/signing-rate?period=${long}&format=json`, KEYS.auditor);
    expectedTrend = await apiJson('/v1/reports/signing-rate/trend?period=2017-07-01..2022-06-30', KEYS.auditor);
    assert.equal(expectedTrend.months.length, 60);
    compareDashboard(await readDashboard(), expected, expectedTrend, 'vi');
    assert.match(await text('#trend-note'), /60 tháng cuối của kỳ \(01\/07\/2017 – 30\/06\/2022\)/);
    await shot('dashboard-long-period');

    // A trend that fails on its own leaves the report drawn, and says so in the trend's place.
    await fakeOnce((url) => url.pathname === '/v1/reports/signing-rate/trend',
      problem(400, 'the period spans 90 months; a trend covers at most 60'));
    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'quarter');
      await page.fill('#period-year', '2022');
      await page.selectOption('#period-quarter', '1');
    }, '2022-Q1');
    expected = await apiJson('/v1/reports/signing-rate?period=2022-Q1&format=json', KEYS.auditor);
    compareDashboard(await readDashboard(), expected, { months: [] }, 'vi');
    const trendNotice = await text('#trend-section .notice-failed');
    assert.match(trendNotice, /Yêu cầu không hợp lệ\./);
    assert.match(trendNotice, /a trend covers at most 60/);

    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'year');
      await page.fill('#period-year', '2022');
      await page.selectOption('#dash-level', 'commune');
    }, '2022', { level: 'commune' });
    expected = await apiJson('/v1/reports/signing-rate?period=2022&level=commune&format=json', KEYS.auditor);
    expectedTrend = await apiJson('/v1/reports/signing-rate/trend?period=2022&level=commune', KEYS.auditor);
    compareDashboard(await readDashboard(), expected, expectedTrend, 'vi');
    assert.ok(expected.units.every((u) => u.level === 'commune'));
    await page.selectOption('#dash-level', '');
  });

  await step('a refused request is explained, with the service\'s detail and the request id', async () => {
    await page.goto(`${BASE}/web/#/dashboard?period=2022-H3`);
    await page.waitForSelector('#dash-result .notice-failed');
    const notice = await text('#dash-result .notice-failed');
    assert.match(notice, /Yêu cầu không hợp lệ\./);
    assert.match(notice, /half-year must be H1 or H2/);
    assert.match(notice, /Mã yêu cầu \(để báo cho quản trị viên\): [0-9a-f]{16}/);
    assert.equal(await page.getAttribute('#dash-result .notice-failed span[lang]', 'lang'), 'en');
    await shot('dashboard-refused');
  });

  await step('the dashboard in English: the same figures, English number format', async () => {
    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'half');
      await page.fill('#period-year', '2022');
      await page.selectOption('#period-half', '1');
    }, PERIOD);
    await setLanguage('en');
    assert.equal(await text('#dashboard-title'), 'Signing rate of documents');
    assert.equal(await text('#card-issued .card-label'), 'Documents issued');
    const shown = await readDashboard();
    compareDashboard(shown, report, trend, 'en');
    assert.equal(shown.declared, '98.0%');
    assert.ok(shown.issued.includes(','), shown.issued);
    await page.evaluate(() => document.querySelectorAll('details.data').forEach((d) => { d.open = false; }));
    await shot('dashboard-en');
    await setLanguage('vi');
  });

  await step('an auditor cannot sign or verify: no link, a refusal page, and the service refuses', async () => {
    await page.goto(`${BASE}/web/#/sign`);
    await page.waitForSelector('#view-denied:not([hidden])');
    assert.match(await text('#denied-text'), /không được ký số/);
    assert.ok(!(await page.isVisible('#view-sign')));
    await shot('auditor-cannot-sign');
    const pdf = fs.readFileSync(path.join(DOCS, 'letter.pdf'));
    assert.equal(await pageFetchStatus('POST', '/v1/sign/pdf?key=stp-01', pdf), 403);
    const identity = await page.evaluate(async (key) => (await fetch('/v1/whoami', {
      headers: { Authorization: `Bearer ${key}` },
    })).json(), signedIn);
    assert.deepEqual(identity.signing_keys, [], 'an auditor is shown no signing key');
    await page.goto(`${BASE}/web/#/verify`);
    await page.waitForSelector('#view-denied:not([hidden])');
  });

  await step('an administrator verifies and reads reports, and signs nothing; the focus follows the view', async () => {
    await login(KEYS.admin);
    assert.ok(await page.isVisible('#nav-verify'));
    assert.ok(await page.isVisible('#nav-dashboard'));
    assert.ok(!(await page.isVisible('#nav-sign')));
    // A change of view takes the focus to the new view's heading.
    await page.focus('#nav-dashboard');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#view-dashboard:not([hidden])');
    await page.waitForFunction(() => document.activeElement.id === 'dashboard-title');
    await page.click('#nav-verify');
    await page.waitForSelector('#view-verify:not([hidden])');
    await page.waitForFunction(() => document.activeElement.id === 'verify-title');
  });

  await step('an auditor bound to one unit reads that unit only', async () => {
    await login(KEYS.stp_auditor);
    await page.waitForSelector('#view-dashboard:not([hidden])');
    await submitPeriod(async () => {
      await page.selectOption('#period-kind', 'half');
      await page.fill('#period-year', '2022');
      await page.selectOption('#period-half', '1');
    }, PERIOD, { unit: 'STP' });
    assert.ok(await page.isVisible('#dash-unit'));
    assert.deepEqual(await page.locator('#dash-unit option').allTextContents(), ['STP — Sở Tư pháp']);
    const scoped = await apiJson(`/v1/reports/signing-rate?period=${PERIOD}&unit=STP&format=json`, KEYS.stp_auditor);
    const scopedTrend = await apiJson(`/v1/reports/signing-rate/trend?period=${PERIOD}&unit=STP`, KEYS.stp_auditor);
    compareDashboard(await readDashboard(), scoped, scopedTrend, 'vi');
    assert.equal(await page.locator('.breadcrumb a').count(), 0, 'no link to reports it may not read');
    assert.equal(await pageFetchStatus('GET', `/v1/reports/signing-rate?period=${PERIOD}`), 403);
  });

  await step('a signed document that arrives after logout is not offered to the next user', async () => {
    await login(KEYS.signer);
    await page.click('#nav-sign');
    await page.waitForSelector('#view-sign:not([hidden])');
    const held = await holdOnce((url) => url.pathname === '/v1/sign/pdf');
    await page.setInputFiles('#sign-file', path.join(DOCS, 'letter.pdf'));
    await page.fill('#sign-document-id', 'WEB-LATE-1');
    await page.click('#sign-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('sign-status').textContent.includes('letter.pdf'));
    await page.click('#logout');
    await page.waitForSelector('#view-login:not([hidden])');
    signedIn = null;
    held.release();
    await held.done;
    await page.evaluate(() => new Promise((resolve) => { setTimeout(resolve, 300); }));
    const left = await page.evaluate(() => ({
      status: document.getElementById('sign-status').textContent,
      download: document.getElementById('sign-download') !== null,
    }));
    assert.deepEqual(left, { status: '', download: false });
  });

  await step('a signer signs through the page; the clerk\'s check of the result is VALID', async () => {
    await login(KEYS.signer);
    assert.ok(await page.isVisible('#nav-sign'));
    assert.ok(!(await page.isVisible('#nav-dashboard')));
    await page.click('#nav-sign');
    await page.waitForSelector('#view-sign:not([hidden])');
    assert.deepEqual(await page.locator('#sign-key option').evaluateAll((o) => o.map((x) => x.value)), ['stp-01']);
    await page.setInputFiles('#sign-file', path.join(DOCS, 'letter.pdf'));
    await page.fill('#sign-document-id', 'WEB-SIGN-1');
    await page.fill('#sign-reason', 'Ban hành');
    await page.click('#sign-form button[type=submit]');
    await page.waitForSelector('#sign-download');
    assert.match(await text('#sign-status'), /HỢP LỆ/);
    await shot('sign');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sign-download')]);
    assert.equal(download.suggestedFilename(), 'letter.signed.pdf');
    const signedPath = path.join(DOCS, 'signed-in-browser.pdf');
    fs.copyFileSync(await download.path(), signedPath);
    const checked = await verifyByApi(signedPath);
    assert.equal(checked.indication, 'TOTAL-PASSED');
    await login(KEYS.verifier);
    await open('#/verify');
    await chooseFile('signed-in-browser.pdf');
    assert.equal((await readVerdict()).indication, 'TOTAL-PASSED');
  });

  await step('a signer signs an attachment in the Decree 30 layout through the page', async () => {
    await login(KEYS.signer);
    await page.click('#nav-sign');
    await page.waitForSelector('#view-sign:not([hidden])');
    assert.ok(!(await page.isVisible('#sign-number')), 'the number is asked for attachments only');
    await page.selectOption('#sign-stamp', 'attachment');
    assert.ok(await page.isVisible('#sign-number'));
    assert.ok(!(await page.isVisible('#sign-image')));
    await page.setInputFiles('#sign-file', path.join(DOCS, 'letter.pdf'));
    await page.click('#sign-form button[type=submit]');
    assert.equal(await text('#sign-error'), 'Nhập số và ký hiệu của văn bản chính.');
    await page.fill('#sign-number', '123/UBND-VP');
    const [request] = await Promise.all([
      page.waitForRequest((r) => new URL(r.url()).pathname === '/v1/sign/pdf'),
      page.click('#sign-form button[type=submit]'),
    ]);
    const query = new URL(request.url()).searchParams;
    assert.equal(query.get('stamp'), 'attachment');
    assert.equal(query.get('number'), '123/UBND-VP');
    await page.waitForSelector('#sign-download');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sign-download')]);
    const signedPath = path.join(DOCS, 'attachment-signed-in-browser.pdf');
    fs.copyFileSync(await download.path(), signedPath);
    assert.equal((await verifyByApi(signedPath)).indication, 'TOTAL-PASSED');
    await shot('sign-decree30');
  });

  await step('no request left this service, and no URL carried a key', async () => {
    const base = new URL(BASE);
    for (const request of requests) {
      const url = request.url();
      assert.ok(url.startsWith(`${base.origin}/`) || url.startsWith('blob:') || url.startsWith('data:'),
        `request to another host: ${url}`);
      assert.ok(!/kyso_[0-9a-f]{16}_/.test(url), `a key in a URL: ${url}`);
    }
    const calls = requests.filter((r) => new URL(r.url()).pathname.startsWith('/v1/'));
    assert.ok(calls.length > 20, `${calls.length} API calls`);
    for (const request of calls) {
      const headers = await request.allHeaders();
      assert.match(headers.authorization || '', /^Bearer kyso_/, `${request.url()} without a key`);
    }
    assert.deepEqual(pageErrors, [], 'no script error on any page');
    // Every file loaded since the first check, reloads included, had the policy too.
    await checkAssetHeaders();
  });

  console.log(`# ${passed} steps passed; screenshots in ${ARTEFACTS}`);
} catch (error) {
  console.error(`not ok ${passed + 1} - ${current}`);
  console.error(error && error.stack ? error.stack : error);
  try {
    await page.screenshot({ path: path.join(ARTEFACTS, `failure-${passed + 1}.png`), fullPage: true });
  } catch (_) {
    // the page itself may be gone
  }
  process.exitCode = 1;
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
