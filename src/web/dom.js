// Building the page from data without ever parsing markup: every string from the service goes
// in as a text node or an attribute value, so a unit called "<script>…" shows as those
// characters. Nothing here, or anywhere in these scripts, assigns HTML.

const SVG = 'http://www.w3.org/2000/svg';

/** An HTML element: el('p', {class: 'x', onclick: f}, 'text', child, [more]). */
export function el(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** An SVG element, same calling convention. */
export function svg(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG, tag), attributes, children);
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) {
      node.setAttribute(name, '');
    } else {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

/** Appends strings (as text), nodes and nested arrays; skips null, undefined and false. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Removes every child. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** Replaces every child with the given ones. */
export function replace(node, ...children) {
  return append(clear(node), children);
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page element #${id} is missing`);
  return node;
}

/** Text in English inside a Vietnamese page (a technical detail the service only has in
 * English): marked so that screen readers pronounce it as English. */
export function english(text) {
  return el('span', { lang: 'en' }, text);
}

/** Saves `blob` as a download called `filename`. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the object URL; free it once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Small icons that go with words (never alone), hidden from screen readers. */
export function icon(kind) {
  const common = { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' };
  switch (kind) {
    case 'passed':
      return svg('svg', { ...common, class: 'icon icon-passed' },
        svg('circle', { cx: 12, cy: 12, r: 11, fill: 'currentColor' }),
        svg('path', { d: 'M6.5 12.5l3.5 3.5 7.5-8', fill: 'none', stroke: '#fff', 'stroke-width': 2.6, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
    case 'failed':
      return svg('svg', { ...common, class: 'icon icon-failed' },
        svg('circle', { cx: 12, cy: 12, r: 11, fill: 'currentColor' }),
        svg('path', { d: 'M7.5 7.5l9 9m0-9l-9 9', fill: 'none', stroke: '#fff', 'stroke-width': 2.6, 'stroke-linecap': 'round' }));
    default:
      // Indeterminate: a triangle with an exclamation mark.
      return svg('svg', { ...common, class: 'icon icon-indeterminate' },
        svg('path', { d: 'M12 1.5L23 21.5H1z', fill: 'currentColor' }),
        svg('path', { d: 'M12 8.5v6.5', stroke: '#fff', 'stroke-width': 2.6, 'stroke-linecap': 'round' }),
        svg('circle', { cx: 12, cy: 18.3, r: 1.5, fill: '#fff' }));
  }
}
