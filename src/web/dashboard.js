// The signing-rate dashboard: GET /v1/reports/signing-rate (JSON) for the period, level and
// unit chosen, GET /v1/reports/signing-rate/trend for the months, the API's CSV for export.
// Every figure shown is one the API sent; this page sorts, formats and draws, never divides.

import { call, getJson, query } from './api.js';
import { byId, el, replace, clear, saveBlob } from './dom.js';
import {
  t, levels, levelLabel, count, percent, decimal, day, date,
} from './i18n.js';
import { legend, rateBars, trendLines, countBars } from './charts.js';
import { problemNotice } from './errors.js';

/** Units in the "lowest rates" chart before "show all". */
const LOWEST_SHOWN = 15;

/** The most months the API's trend covers (TREND_MAX_MONTHS in src/api/reports.rs; a unit test in
 * src/web.rs keeps the two equal). A longer period's trend is its last months. */
const TREND_MAX_MONTHS = 60;

let ctx = null;
let wanted = null; // {period, level, unit} asked for by the URL
let loaded = null; // {key, params, report, trend, trendError, trendNote}
let failure = null;
let csvFailure = null; // a failed export, shown beside the report it was of
let showAllUnits = false;
let filterText = '';
let loading = 0; // the number of the latest load, so an older answer arriving late is dropped
const unitNames = new Map(); // code → name of every unit seen in a report, for the breadcrumb

export function mount(context) {
  ctx = context;
  byId('period-kind').addEventListener('change', syncPeriodFields);
  byId('dash-form').addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  byId('dash-csv').addEventListener('click', downloadCsv);
  fillStaticOptions();
}

export function reset() {
  loading += 1; // answers to requests already sent are dropped
  wanted = null;
  loaded = null;
  failure = null;
  csvFailure = null;
  showAllUnits = false;
  filterText = '';
  clear(byId('dash-result'));
  clear(byId('dash-status'));
  clear(byId('dash-notice'));
  byId('dash-error').hidden = true;
}

export function rerender() {
  fillStaticOptions();
  if (wanted) setForm(wanted);
  if (loaded) {
    byId('dash-status').textContent = t('dash.loaded', { period: loaded.report.period });
    render();
  } else if (failure) {
    replace(byId('dash-result'), problemNotice(failure));
  }
  if (csvFailure) replace(byId('dash-notice'), problemNotice(csvFailure));
}

export function show(params) {
  const bound = boundUnits();
  const next = {
    period: params.get('period') || defaultPeriod(),
    level: params.get('level') || '',
    unit: params.get('unit') || (bound ? bound[0] : ''),
  };
  const unitField = byId('dash-unit-field');
  unitField.hidden = !bound;
  if (bound) fillUnitOptions(bound);
  wanted = next;
  setForm(next);
  const key = JSON.stringify(next);
  if (!loaded || loaded.key !== key) load(next, key);
}

/** The units of a key bound to some, or null for a province-wide key. */
function boundUnits() {
  const units = ctx.identity().units;
  return units.includes('*') ? null : units;
}

/**
 * The unit picker of a bound key: "STP — Sở Tư pháp", since a clerk knows the unit's name
 * rather than its code. Names come from /v1/whoami (the key's own units) and from the reports
 * read so far.
 */
function fillUnitOptions(bound) {
  const select = byId('dash-unit');
  const value = select.value;
  const named = ctx.identity().unit_names || {};
  const name = (code) => unitNames.get(code) || named[code];
  replace(select, bound.map((code) => el('option', { value: code },
    name(code) ? `${code} — ${name(code)}` : code)));
  if (value) select.value = value;
}

/** The current half-year in Vietnam time (UTC+7), the period the seed report is made for. */
function defaultPeriod() {
  const now = new Date(Date.now() + 7 * 3600 * 1000);
  return `${now.getUTCFullYear()}-H${now.getUTCMonth() < 6 ? 1 : 2}`;
}

function fillStaticOptions() {
  const two = (n) => String(n).padStart(2, '0');
  const keep = (id, options) => {
    const select = byId(id);
    const value = select.value;
    replace(select, options);
    if (value) select.value = value;
  };
  keep('period-month', Array.from({ length: 12 }, (_, i) => el('option', { value: two(i + 1) }, t('dash.monthN', { n: i + 1 }))));
  keep('period-quarter', [1, 2, 3, 4].map((q) => el('option', { value: String(q) }, t('dash.quarterN', { n: q }))));
  keep('period-half', [el('option', { value: '1' }, t('dash.half1')), el('option', { value: '2' }, t('dash.half2'))]);
  keep('dash-level', [el('option', { value: '' }, t('dash.level.all')),
    levels().map((l) => el('option', { value: l.key }, l.label))]);
}

/** Shows the fields of the chosen period type only. */
function syncPeriodFields() {
  const kind = byId('period-kind').value;
  for (const field of document.querySelectorAll('#dash-form [data-for]')) {
    field.hidden = !field.dataset.for.split(' ').includes(kind);
  }
}

/** Puts a period string (as the API takes it) into the picker. */
function setForm({ period, level, unit }) {
  const kind = byId('period-kind');
  let m;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(period))) {
    kind.value = 'custom';
    byId('period-from').value = `${m[1]}-${m[2]}-${m[3]}`;
    byId('period-to').value = m[4];
  } else if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(period))) {
    kind.value = 'custom';
    byId('period-from').value = period;
    byId('period-to').value = period;
  } else if ((m = /^(\d{4})-Q([1-4])$/i.exec(period))) {
    kind.value = 'quarter';
    byId('period-year').value = m[1];
    byId('period-quarter').value = m[2];
  } else if ((m = /^(\d{4})-H([12])$/i.exec(period))) {
    kind.value = 'half';
    byId('period-year').value = m[1];
    byId('period-half').value = m[2];
  } else if ((m = /^(\d{4})-(\d{2})$/.exec(period))) {
    kind.value = 'month';
    byId('period-year').value = m[1];
    byId('period-month').value = m[2];
  } else if ((m = /^(\d{4})$/.exec(period))) {
    kind.value = 'year';
    byId('period-year').value = m[1];
  }
  byId('dash-level').value = level || '';
  if (unit && !byId('dash-unit-field').hidden) byId('dash-unit').value = unit;
  syncPeriodFields();
}

/** The period string the picker describes, or throws a message for the user. */
function periodFromForm() {
  const kind = byId('period-kind').value;
  if (kind === 'custom') {
    const from = byId('period-from').value;
    const to = byId('period-to').value;
    if (!from || !to || to < from) throw new Error(t('dash.badRange'));
    return `${from}..${to}`;
  }
  const year = byId('period-year').value.trim();
  if (!/^\d{4}$/.test(year)) throw new Error(t('dash.badYear'));
  switch (kind) {
    case 'month': return `${year}-${byId('period-month').value}`;
    case 'quarter': return `${year}-Q${byId('period-quarter').value}`;
    case 'half': return `${year}-H${byId('period-half').value}`;
    default: return year;
  }
}

function submit() {
  const error = byId('dash-error');
  let period;
  try {
    period = periodFromForm();
  } catch (e) {
    error.hidden = false;
    error.textContent = t('dash.badPeriod', { reason: e.message });
    return;
  }
  error.hidden = true;
  const unitField = byId('dash-unit-field');
  // A key bound to units reads its unit; a province-wide key keeps the unit it drilled into.
  const unit = unitField.hidden ? (wanted ? wanted.unit : '') : byId('dash-unit').value;
  navigate({ period, level: byId('dash-level').value, unit });
}

function navigate({ period, level, unit }) {
  ctx.navigate(`#/dashboard${query({ period, level, unit })}`);
}

async function load(params, key) {
  const mine = ++loading;
  const status = byId('dash-status');
  status.textContent = t('dash.loading');
  failure = null;
  csvFailure = null;
  clear(byId('dash-notice'));
  let report;
  try {
    report = await getJson(`/v1/reports/signing-rate${query({ ...params, format: 'json' })}`);
  } catch (error) {
    if (mine !== loading) return;
    loaded = null;
    failure = error;
    status.textContent = '';
    replace(byId('dash-result'), problemNotice(error));
    return;
  }
  if (mine !== loading) return;
  const span = trendSpan(report);
  let trend = null;
  let trendError = null;
  try {
    trend = await getJson(`/v1/reports/signing-rate/trend${query({ period: span.period, level: params.level, unit: params.unit })}`);
  } catch (error) {
    // The report is right without its trend: a refused or failed trend is said in the trend's
    // own section, and the figures that did load stay on screen.
    trendError = error;
  }
  if (mine !== loading) return;
  loaded = { key, params, report, trend, trendError, trendNote: span.note };
  for (const unit of report.units) unitNames.set(unit.code, unit.name);
  if (report.scope) unitNames.set(report.scope.code, report.scope.name);
  const bound = boundUnits();
  if (bound) fillUnitOptions(bound);
  showAllUnits = false;
  status.textContent = t('dash.loaded', { period: report.period });
  render();
}

/**
 * The period the trend is asked for, and the note that says why it is not the report's own.
 * A trend over one month says nothing: such a period gets the 12 months up to its end. The API
 * refuses a trend over more than TREND_MAX_MONTHS: a longer period gets its last ones.
 */
function trendSpan(report) {
  const months = monthsIn(report.first_day, report.last_day);
  if (months === 1) return { period: lastMonths(report.last_day, 12), note: 'dash.trendWider' };
  if (months > TREND_MAX_MONTHS) {
    return { period: lastMonths(report.last_day, TREND_MAX_MONTHS), note: 'dash.trendCut' };
  }
  return { period: report.period, note: null };
}

/** Calendar months touched by first..last ("2022-01-31", "2022-02-01" → 2). */
function monthsIn(firstDay, lastDay) {
  const [y1, m1] = firstDay.split('-').map(Number);
  const [y2, m2] = lastDay.split('-').map(Number);
  return (y2 - y1) * 12 + (m2 - m1) + 1;
}

/** The `n` whole months ending with lastDay's: ("2022-06-30", 12) → "2021-07-01..2022-06-30".
 * Calendar arithmetic on the day only, no Date and so no time zone. */
function lastMonths(lastDay, n) {
  const [y, m] = lastDay.split('-').map(Number);
  const start = y * 12 + (m - 1) - (n - 1);
  const startYear = Math.floor(start / 12);
  const startMonth = (start % 12) + 1;
  return `${startYear}-${String(startMonth).padStart(2, '0')}-01..${lastDay}`;
}

/** The CSV of the report on screen: its settings, not the form's, which may have been changed
 * since without asking for the report (the file must match the figures the user read). */
async function downloadCsv() {
  const status = byId('dash-status');
  const notice = byId('dash-notice');
  csvFailure = null;
  clear(notice);
  if (!loaded) {
    const error = byId('dash-error');
    error.hidden = false;
    error.textContent = t('dash.csvNothing');
    return;
  }
  const mine = loading;
  const { period, level, unit } = loaded.params;
  try {
    const response = await call('GET', `/v1/reports/signing-rate${query({ period, level, unit, format: 'csv' })}`);
    const blob = await response.blob();
    if (mine !== loading) return; // logged out meanwhile: the next user gets no file
    const name = `kyso-signing-rate-${period.replace('..', '_')}${unit ? `-${unit}` : ''}${level ? `-${level}` : ''}.csv`;
    saveBlob(blob, name);
    status.textContent = t('dash.csvSaved', { name });
  } catch (error) {
    if (mine !== loading) return;
    // Said above the report, which stays: its figures are still right, only the file failed.
    csvFailure = error;
    replace(notice, problemNotice(error));
  }
}

function covers(code) {
  const units = ctx.identity().units;
  return units.includes('*') || units.includes(code);
}

function render() {
  const { params, report } = loaded;
  const scope = report.scope;
  const result = byId('dash-result');
  // What is shown, for scripts and tests that need to know the figures are current.
  result.dataset.period = params.period;
  result.dataset.level = params.level;
  result.dataset.unit = params.unit;
  replace(result,
    breadcrumb(scope),
    el('h2', { class: 'report-heading', id: 'report-heading' },
      scope ? `${t('dash.heading', { period: report.period })} — ${scope.name}` : t('dash.heading', { period: report.period })),
    el('p', { class: 'report-range' }, t('dash.range', { first: day(report.first_day), last: day(report.last_day) })),
    cards(report.overall),
    el('div', {},
      el('section', { 'aria-labelledby': 'levels-title' },
        el('h2', { id: 'levels-title' }, t('dash.byLevel')),
        legend(),
        report.levels.length
          ? rateBars(report.levels.map((l) => ({
            label: levelLabel(l.level),
            declared: l.rates.declared_rate,
            verified: l.rates.verified_rate,
          })), t('dash.byLevel'))
          : el('p', { class: 'empty' }, t('dash.noData')),
        figuresTable('levels-table', [t('col.level'), t('col.units')],
          report.levels.map((l) => ({ attrs: { 'data-level': l.level }, cells: [levelLabel(l.level), count(l.units)], rates: l.rates })))),
      trendSection(loaded)),
    unitsChart(report),
    unitsTable(report),
    unsignedPart(report),
    el('section', { 'aria-labelledby': 'methods-title' },
      el('h2', { id: 'methods-title' }, t('dash.methods')),
      report.methods.some((m) => m.signatures > 0)
        ? countBars(report.methods.map((m) => ({ label: m.method, value: m.signatures })), t('dash.methods'))
        : el('p', { class: 'empty' }, t('dash.noData')),
      methodsTable(report)),
    el('p', { class: 'hint' }, t('dash.note')));
}

/** Signatures and distinct signer certificates per method: overall, then each level. */
function methodsTable(report) {
  const rows = [{ attrs: { 'data-level': '' }, label: t('dash.overall'), methods: report.methods }]
    .concat(report.levels.map((l) => ({ attrs: { 'data-level': l.level }, label: levelLabel(l.level), methods: l.methods })));
  return el('div', { class: 'table-wrap' }, el('table', { id: 'methods-table' },
    el('caption', {}, t('dash.methodsCaption')),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('col.level')),
      report.methods.map((m) => el('th', { scope: 'col', class: 'num' }, m.method)))),
    el('tbody', {}, rows.map((row) => el('tr', row.attrs,
      el('th', { scope: 'row' }, row.label),
      row.methods.map((m) => el('td', { class: 'num', 'data-method': m.method },
        t('dash.signaturesCertificates', { s: count(m.signatures), c: count(m.certificates) }))))))));
}

function trendSection({ trend, trendError, trendNote }) {
  const title = el('h2', { id: 'trend-title' }, t('dash.trend'));
  if (trendError) {
    return el('section', { 'aria-labelledby': 'trend-title', id: 'trend-section' }, title, problemNotice(trendError));
  }
  const span = `${day(trend.first_day)} – ${day(trend.last_day)}`;
  return el('section', { 'aria-labelledby': 'trend-title', id: 'trend-section' },
    title,
    trendNote ? el('p', { class: 'hint', id: 'trend-note' }, t(trendNote, { period: span, n: TREND_MAX_MONTHS })) : null,
    legend(),
    trendLines(trend.months.map((m) => ({
      label: monthLabel(m.month),
      declared: m.overall.declared_rate,
      verified: m.overall.verified_rate,
    })), t('dash.trend')),
    figuresTable('trend-table', [t('col.month')],
      trend.months.map((m) => ({ attrs: { 'data-month': m.month }, cells: [monthLabel(m.month)], rates: m.overall }))));
}

function monthLabel(month) {
  const [y, m] = month.split('-');
  return `${m}/${y}`;
}

function breadcrumb(scope) {
  if (!scope) return null;
  const items = [];
  if (covers('*')) {
    items.push(el('li', {}, el('a', { href: `#/dashboard${query({ period: wanted.period, level: wanted.level })}` }, t('dash.province'))));
  }
  if (scope.parent && covers(scope.parent)) {
    items.push(el('li', {}, el('a', { href: `#/dashboard${query({ period: wanted.period, level: wanted.level, unit: scope.parent })}` },
      unitNames.get(scope.parent) || scope.parent)));
  }
  items.push(el('li', { 'aria-current': 'page' }, scope.name));
  return el('nav', { class: 'breadcrumb', 'aria-label': t('dash.breadcrumb') }, el('ol', {}, items));
}

function cards(overall) {
  const card = (id, kind, label, value, note) => el('div', { class: `card ${kind}`, id },
    el('p', { class: 'card-label' }, label),
    el('p', { class: 'card-value' }, value),
    note ? el('p', { class: 'card-note' }, note) : null);
  return el('div', { class: 'cards' },
    card('card-issued', '', t('dash.issued'), count(overall.issued)),
    card('card-declared', 'card-declared', t('dash.declared'), percent(overall.declared_rate),
      t('dash.documents', { n: count(overall.declared_signed) })),
    card('card-verified', 'card-verified', t('dash.verified'), percent(overall.verified_rate),
      t('dash.documents', { n: count(overall.verified_signed) })),
    card('card-gap', 'card-gap', t('dash.gap'),
      overall.gap_points === null ? '—' : t('dash.points', { v: decimal(overall.gap_points) }),
      t('dash.unverified', { n: count(overall.declared_unverified) })),
    // Only once an archive audit recorded long-term statuses (kyso verify --batch --record).
    overall.long_term_protected + overall.needs_extending > 0
      ? card('card-long-term', 'card-verified', t('dash.longTerm'), count(overall.long_term_protected),
        t('dash.needsExtending', { n: count(overall.needs_extending) }))
      : null);
}

/** The figures behind a chart, as a table in a disclosure (for screen readers and for checking). */
function figuresTable(id, leading, rows) {
  return el('details', { class: 'data' },
    el('summary', {}, t('dash.tableView')),
    el('div', { class: 'table-wrap' }, el('table', { id },
      el('thead', {}, el('tr', {},
        leading.map((h) => el('th', { scope: 'col' }, h)),
        el('th', { scope: 'col', class: 'num' }, t('col.issued')),
        el('th', { scope: 'col', class: 'num' }, t('col.declared')),
        el('th', { scope: 'col', class: 'num' }, t('col.verified')),
        el('th', { scope: 'col', class: 'num' }, t('col.gap')))),
      el('tbody', {}, rows.map((row) => el('tr', row.attrs,
        row.cells.map((c, i) => (i === 0 ? el('th', { scope: 'row' }, c) : el('td', { class: 'num' }, c))),
        el('td', { class: 'num', 'data-col': 'issued' }, count(row.rates.issued)),
        el('td', { class: 'num', 'data-col': 'declared' }, percent(row.rates.declared_rate)),
        el('td', { class: 'num', 'data-col': 'verified' }, percent(row.rates.verified_rate)),
        el('td', { class: 'num', 'data-col': 'gap' }, decimal(row.rates.gap_points))))))));
}

function unitsChart(report) {
  const withDocuments = report.units.filter((u) => u.own.declared_rate !== null);
  // Lowest declared rate first (as the report's HTML page orders them); ties by code.
  withDocuments.sort((a, b) => (a.own.declared_rate - b.own.declared_rate) || a.code.localeCompare(b.code));
  const many = withDocuments.length > LOWEST_SHOWN;
  const shown = showAllUnits || !many ? withDocuments : withDocuments.slice(0, LOWEST_SHOWN);
  const title = many && !showAllUnits ? t('dash.byUnit') : t('dash.byUnitAll');
  return el('section', { 'aria-labelledby': 'units-chart-title' },
    el('h2', { id: 'units-chart-title' }, title),
    legend(),
    shown.length
      ? rateBars(shown.map((u) => ({ label: u.name, declared: u.own.declared_rate, verified: u.own.verified_rate })), title)
      : el('p', { class: 'empty' }, t('dash.noData')),
    many
      ? el('button', {
        type: 'button',
        class: 'button button-small',
        id: 'units-more',
        'aria-expanded': String(showAllUnits),
        onclick: () => {
          showAllUnits = !showAllUnits;
          render();
          byId('units-chart-title').scrollIntoView();
          // render() replaced the button that had the focus, which would drop it to <body>:
          // the new one takes it, so the keyboard user goes on from where they were.
          byId('units-more').focus({ preventScroll: true });
        },
      }, showAllUnits ? t('dash.showFewer', { n: LOWEST_SHOWN }) : t('dash.showAll', { n: count(withDocuments.length) }))
      : null);
}

function unitsTable(report) {
  const body = el('tbody', {});
  const counter = el('p', { class: 'hint', 'aria-live': 'polite' });
  const fill = () => {
    const needle = filterText.trim().toLocaleLowerCase();
    const rows = report.units.filter((u) => !needle
      || u.name.toLocaleLowerCase().includes(needle) || u.code.toLocaleLowerCase().includes(needle));
    replace(body, rows.map((u) => unitRow(u, report, Boolean(needle))));
    counter.textContent = t('dash.filterCount', { shown: count(rows.length), total: count(report.units.length) });
  };
  const input = el('input', {
    id: 'units-filter',
    type: 'search',
    value: filterText,
    autocomplete: 'off',
    oninput: (e) => { filterText = e.target.value; fill(); },
  });
  fill();
  return el('section', { 'aria-labelledby': 'units-title' },
    el('h2', { id: 'units-title' }, t('dash.units')),
    el('div', { class: 'filter' },
      el('div', { class: 'field' }, el('label', { for: 'units-filter' }, t('dash.filter')), input),
      counter),
    el('div', { class: 'table-wrap' }, el('table', { id: 'units-table' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('col.unit')),
        el('th', { scope: 'col', class: 'num' }, t('col.issued')),
        el('th', { scope: 'col', class: 'num' }, t('col.declared')),
        el('th', { scope: 'col', class: 'num' }, t('col.verified')),
        el('th', { scope: 'col', class: 'num' }, t('col.gap')),
        el('th', { scope: 'col', class: 'num' }, t('col.total')),
        el('th', { scope: 'col' }, t('col.action')))),
      body)));
}

function unitRow(u, report, flat) {
  const here = report.scope && report.scope.code === u.code;
  const indent = flat ? 0 : Math.min(u.depth, 3);
  return el('tr', { class: `level-${u.level}`, 'data-unit': u.code },
    el('th', { scope: 'row', class: indent ? `unit-name indent-${indent}` : 'unit-name' },
      el('span', { class: 'name' }, u.name),
      el('span', { class: 'unit-code' }, `${u.code} · ${levelLabel(u.level)}`)),
    el('td', { class: 'num', 'data-col': 'issued' }, count(u.own.issued)),
    el('td', { class: 'num', 'data-col': 'declared' }, percent(u.own.declared_rate)),
    el('td', { class: 'num', 'data-col': 'verified' }, percent(u.own.verified_rate)),
    el('td', { class: 'num', 'data-col': 'gap' }, decimal(u.own.gap_points)),
    el('td', { class: 'num' }, `${count(u.total.issued)} · ${percent(u.total.declared_rate)}`),
    el('td', {}, !here && covers(u.code)
      ? el('a', {
        class: 'button button-small',
        href: `#/dashboard${query({ period: wanted.period, level: wanted.level, unit: u.code })}`,
        'aria-label': t('dash.drillLabel', { name: u.name }),
      }, t('dash.drill'))
      : null));
}

function unsignedPart(report) {
  const list = report.unsigned;
  if (!list) return null;
  const title = el('h2', { id: 'unsigned-title' }, `${t('dash.unsigned')}: ${report.scope ? report.scope.name : list.unit}`);
  if (list.total === 0) {
    return el('section', { 'aria-labelledby': 'unsigned-title' }, title, el('p', { class: 'empty' }, t('dash.unsignedNone')));
  }
  return el('section', { 'aria-labelledby': 'unsigned-title' },
    title,
    el('p', { class: 'hint', id: 'unsigned-count' }, t('dash.unsignedCount', { shown: count(list.documents.length), total: count(list.total) })),
    el('div', { class: 'table-wrap' }, el('table', { id: 'unsigned-table' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, t('col.documentId')),
        el('th', { scope: 'col' }, t('col.number')),
        el('th', { scope: 'col' }, t('col.type')),
        el('th', { scope: 'col' }, t('col.issuedAt')),
        el('th', { scope: 'col' }, t('col.declaredState')),
        el('th', { scope: 'col' }, t('col.verifiedState')))),
      el('tbody', {}, list.documents.map((d) => el('tr', { 'data-document': d.document_id },
        el('td', { class: 'mono' }, d.document_id),
        el('td', {}, d.number),
        el('td', {}, d.doc_type),
        el('td', { class: 'num' }, date(d.issued_at)),
        el('td', {}, t(`declared.${d.declared}`)),
        el('td', {}, d.verified ? t('verified.yes') : t('verified.no'))))))));
}
