// Bar and line charts as inline SVG, drawn from figures the API computed (the page never
// computes a rate). The two rates are told apart by colour *and* by fill (solid vs. striped
// bars, solid line with circles vs. dashed line with squares), and every bar carries its value
// as text; each chart's figures are also given as a table by the view that draws it.

import { svg, el } from './dom.js';
import { t, percent, count } from './i18n.js';

const DECLARED = '#1f4e79';
const VERIFIED = '#2b7a4b';
const GRID = '#d5dbe3';
const AXIS_TEXT = '#4a5563';
const TEXT = '#1b1f24';

let serial = 0;

/** The legend shared by the rate charts: a swatch of each fill and its words. */
export function legend() {
  const id = `legend-stripes-${++serial}`;
  const swatch = (fill, defs) => svg('svg', { viewBox: '0 0 28 18', 'aria-hidden': 'true' },
    defs, svg('rect', { x: 0, y: 2, width: 28, height: 14, fill }));
  return el('p', { class: 'legend' },
    el('span', {}, swatch(DECLARED), t('dash.legend.declared')),
    el('span', {}, swatch(`url(#${id})`, stripes(id)), t('dash.legend.verified')));
}

function stripes(id) {
  return svg('defs', {},
    svg('pattern', { id, patternUnits: 'userSpaceOnUse', width: 6, height: 6, patternTransform: 'rotate(45)' },
      svg('rect', { width: 6, height: 6, fill: VERIFIED }),
      svg('rect', { width: 2, height: 6, fill: '#ffffff', 'fill-opacity': 0.35 })));
}

/** Shortens a label for the chart; the full text stays in the row's <title>. */
function shorten(text, max) {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Horizontal bars on a 0–100 % axis, two per row: declared (solid) and verified (striped).
 * rows: [{label, declared, verified}] with rates in percent or null.
 */
export function rateBars(rows, title) {
  const LABEL = 280;
  const BAR = 500;
  const RIGHT = 150;
  const ROW = 40;
  const TOP = 6;
  const width = LABEL + BAR + RIGHT;
  const height = TOP + ROW * rows.length + 26;
  const id = `stripes-${++serial}`;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': t('dash.chartLabel', { title, n: rows.length }),
    'font-size': 13,
  }, stripes(id));
  for (const tick of [0, 25, 50, 75, 100]) {
    const x = LABEL + (BAR * tick) / 100;
    chart.append(
      svg('line', { x1: x, y1: TOP - 4, x2: x, y2: height - 22, stroke: GRID }),
      svg('text', { x, y: height - 6, 'text-anchor': 'middle', fill: AXIS_TEXT }, `${tick}%`));
  }
  rows.forEach((row, i) => {
    const y = TOP + ROW * i;
    const group = svg('g', { class: 'chart-row' },
      svg('title', {}, `${row.label}: ${percent(row.declared)} / ${percent(row.verified)}`),
      svg('text', { x: LABEL - 10, y: y + 22, 'text-anchor': 'end', fill: TEXT }, shorten(row.label, 36)));
    [[row.declared, DECLARED, 0], [row.verified, `url(#${id})`, 1]].forEach(([rate, fill, k]) => {
      const by = y + 4 + 16 * k;
      if (rate === null || rate === undefined) {
        group.append(svg('text', { x: LABEL + 4, y: by + 11, fill: AXIS_TEXT, 'font-style': 'italic' },
          `— ${t('dash.noDocuments')}`));
        return;
      }
      const w = Math.max(0, Math.min(100, rate)) * BAR / 100;
      group.append(
        svg('rect', { x: LABEL, y: by, width: w.toFixed(1), height: 14, fill }),
        svg('text', { x: (LABEL + w + 6).toFixed(1), y: by + 12, fill: TEXT, 'font-weight': k === 0 ? 600 : 400 },
          percent(rate)));
    });
    chart.append(group);
  });
  return el('div', { class: 'chart' }, chart);
}

/**
 * The monthly trend: one line per rate over the months. The y axis starts below the lowest
 * value (rates cluster near 100 %, where a 0-based axis hides every change); lines, unlike
 * bars, do not suggest that their length is the value.
 * points: [{label, declared, verified}].
 */
export function trendLines(points, title) {
  const width = 900;
  const height = 320;
  const left = 56;
  const right = 24;
  const top = 24;
  const bottom = 56;
  const values = points.flatMap((p) => [p.declared, p.verified]).filter((v) => v !== null && v !== undefined);
  const lowest = values.length ? Math.min(...values) : 0;
  const floor = Math.max(0, Math.floor((lowest - 1) / 5) * 5);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  // Points sit inside the plot, clear of the axis labels at its edges.
  const inset = 40;
  const x = (i) => left + inset + (points.length === 1
    ? (plotW - 2 * inset) / 2
    : ((plotW - 2 * inset) * i) / (points.length - 1));
  const y = (v) => top + plotH * (1 - (v - floor) / (100 - floor));
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': t('dash.chartLabel', { title, n: points.length }),
    'font-size': 13,
  });
  // Gridlines down from 100 %, at most about six of them.
  const step = [1, 2, 5, 10, 20, 25].find((s) => (100 - floor) / s <= 6) || 25;
  for (let v = 100; v >= floor; v -= step) {
    chart.append(
      svg('line', { x1: left, y1: y(v), x2: width - right, y2: y(v), stroke: GRID }),
      svg('text', { x: left - 8, y: y(v) + 4, 'text-anchor': 'end', fill: AXIS_TEXT }, `${v}%`));
  }
  points.forEach((p, i) => {
    chart.append(svg('text', { x: x(i), y: height - bottom + 20, 'text-anchor': 'middle', fill: TEXT }, p.label));
  });
  const series = [
    { key: 'declared', colour: DECLARED, dash: null, marker: 'circle', labelDy: -10 },
    { key: 'verified', colour: VERIFIED, dash: '7 5', marker: 'square', labelDy: 20 },
  ];
  for (const s of series) {
    let path = '';
    let pen = false;
    points.forEach((p, i) => {
      const v = p[s.key];
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      pen = true;
    });
    if (path) {
      chart.append(svg('path', { d: path.trim(), fill: 'none', stroke: s.colour, 'stroke-width': 2.5, 'stroke-dasharray': s.dash }));
    }
    points.forEach((p, i) => {
      const v = p[s.key];
      if (v === null || v === undefined) return;
      const cx = x(i);
      const cy = y(v);
      const marker = s.marker === 'circle'
        ? svg('circle', { cx, cy, r: 5, fill: s.colour })
        : svg('rect', { x: cx - 4.5, y: cy - 4.5, width: 9, height: 9, fill: s.colour });
      chart.append(svg('g', {},
        svg('title', {}, `${p.label}: ${percent(v)}`),
        marker,
        points.length <= 13
          ? svg('text', { x: cx, y: cy + s.labelDy, 'text-anchor': 'middle', fill: s.colour, 'font-weight': 600 }, percent(v))
          : null));
    });
  }
  return el('div', { class: 'chart' }, chart);
}

/** Horizontal bars of counts, scaled to the largest. rows: [{label, value}]. */
export function countBars(rows, title) {
  const LABEL = 200;
  const BAR = 420;
  const RIGHT = 110;
  const ROW = 26;
  const width = LABEL + BAR + RIGHT;
  const height = 8 + ROW * rows.length;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': t('dash.chartLabel', { title, n: rows.length }),
    'font-size': 13,
  });
  rows.forEach((row, i) => {
    const y = 4 + ROW * i;
    const w = (BAR * row.value) / max;
    chart.append(svg('g', {},
      svg('title', {}, `${row.label}: ${count(row.value)}`),
      svg('text', { x: LABEL - 10, y: y + 14, 'text-anchor': 'end', fill: TEXT }, shorten(row.label, 28)),
      svg('rect', { x: LABEL, y, width: w.toFixed(1), height: 18, fill: DECLARED }),
      svg('text', { x: (LABEL + w + 6).toFixed(1), y: y + 14, fill: TEXT }, count(row.value))));
  });
  return el('div', { class: 'chart' }, chart);
}
