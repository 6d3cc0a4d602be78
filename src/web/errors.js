// A failed request in words: what it means for the user, the service's own detail (English, as
// the service writes it) and the request id an administrator can find in the service's log.

import { ApiError, NetworkError } from './api.js';
import { el, english } from './dom.js';
import { t, has } from './i18n.js';

/** A notice for `error`, thrown by api.js's call(). */
export function problemNotice(error) {
  const lines = [];
  if (error instanceof NetworkError) {
    lines.push(el('p', {}, t('error.network')));
  } else if (error instanceof ApiError) {
    const key = `error.${error.status}`;
    lines.push(el('p', {}, has(key) ? t(key) : t('error.other', { status: error.status })));
    if (error.problem && error.problem.detail) {
      lines.push(el('p', {}, `${t('error.detail')} `, english(error.problem.detail)));
    }
    if (error.problem && error.problem.instance) {
      const id = String(error.problem.instance).replace('urn:kyso:request:', '');
      lines.push(el('p', {}, t('error.request', { id })));
    }
  } else {
    // Anything else is a fault on our side or a proxy's (an answer that is not JSON, a bug):
    // the user gets words in their language, an administrator the browser's English text.
    lines.push(el('p', {}, t('error.unexpected')));
    lines.push(el('p', {}, `${t('error.technical')} `, english(String(error))));
  }
  return el('div', { class: 'notice notice-failed', role: 'alert' }, lines);
}
