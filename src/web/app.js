// The page's frame: language, login, who the key is, and which view shows. Views are chosen by
// the URL's fragment (#/verify, #/dashboard?period=2022-H1&unit=STP, #/sign) so that the back
// button and bookmarks work; the fragment never holds the key.

import { setApiKey, forgetApiKey, getJson, ApiError, NetworkError } from './api.js';
import { byId, el, replace } from './dom.js';
import { t, lang, setLang, applyStatic, loadWords } from './i18n.js';
import * as verifyView from './verify.js';
import * as dashboardView from './dashboard.js';
import * as signView from './sign.js';

/** Each view, the permission (from GET /v1/whoami) it needs, and its nav link. */
const VIEWS = {
  verify: { module: verifyView, permission: 'verify', nav: 'nav-verify' },
  dashboard: { module: dashboardView, permission: 'read_reports', nav: 'nav-dashboard' },
  sign: { module: signView, permission: 'sign', nav: 'nav-sign' },
};

const state = {
  identity: null, // the whoami answer
  view: null, // the name of the view showing
  loginMessage: null, // why the login form is showing, if not a first visit
};

async function boot() {
  try {
    await loadWords();
  } catch (_) {
    showFatal(t('error.network'));
    return;
  }
  applyStatic();
  updateLanguageButton();
  byId('language').addEventListener('click', switchLanguage);
  byId('logout').addEventListener('click', logout);
  byId('login-form').addEventListener('submit', login);
  window.addEventListener('hashchange', route);
  window.addEventListener('kyso:unauthorized', () => {
    if (!state.identity) return;
    state.loginMessage = 'login.expired';
    logout();
  });
  for (const view of Object.values(VIEWS)) view.module.mount(context());
  // No key survives a reload (api.js keeps it in memory only), so every visit starts at login.
  route();
}

/** What views may use from the frame. */
function context() {
  return {
    identity: () => state.identity,
    can: (permission) => Boolean(state.identity && state.identity.permissions.includes(permission)),
    navigate: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
  };
}

function parseHash() {
  const text = location.hash.replace(/^#\/?/, '');
  const [name, search] = text.split('?');
  return { name: name || '', params: new URLSearchParams(search || '') };
}

function route() {
  const { name, params } = parseHash();
  if (!state.identity) {
    showLogin();
    return;
  }
  const ctx = context();
  const first = Object.keys(VIEWS).find((v) => ctx.can(VIEWS[v].permission));
  let target = VIEWS[name] ? name : null;
  if (!target) {
    if (first) {
      location.replace(`#/${first}`);
      return;
    }
    target = 'verify';
  }
  showFrame();
  const view = VIEWS[target];
  markCurrent(target);
  if (!ctx.can(view.permission)) {
    showOnly('view-denied');
    byId('denied-text').textContent = t(`denied.${target}`, { role: t(`role.${state.identity.role}`) });
    if (state.view !== 'denied') focusHeading('view-denied');
    state.view = 'denied';
    return;
  }
  showOnly(`view-${target}`);
  const changed = state.view !== target;
  state.view = target;
  view.module.show(params, changed);
  if (changed) focusHeading(`view-${target}`);
}

/**
 * A new view takes the focus to its heading (tabindex=-1): a screen reader then says where the
 * user is, and Tab goes on from the top of the new view instead of from the link that was
 * clicked, or from <body> when that link was hidden. A view that only reloads its figures (a new
 * period on the dashboard) keeps the focus where the user put it.
 */
function focusHeading(sectionId) {
  const heading = byId(sectionId).querySelector('h1');
  if (heading) heading.focus();
}

function showOnly(id) {
  for (const section of document.querySelectorAll('main > .view')) {
    section.hidden = section.id !== id;
  }
}

function markCurrent(name) {
  for (const [view, spec] of Object.entries(VIEWS)) {
    const link = byId(spec.nav);
    if (view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/** Navigation and the key's description, for a logged-in key. */
function showFrame() {
  const identity = state.identity;
  const ctx = context();
  byId('nav').hidden = false;
  for (const spec of Object.values(VIEWS)) {
    byId(spec.nav).hidden = !ctx.can(spec.permission);
  }
  byId('logout').hidden = false;
  const units = identity.units.includes('*') ? t('app.allUnits') : identity.units.join(', ');
  const who = byId('whoami');
  who.hidden = false;
  replace(who, t('app.whoami', { key: identity.key_id, role: t(`role.${identity.role}`), units }));
}

function showLogin() {
  byId('nav').hidden = true;
  byId('logout').hidden = true;
  byId('whoami').hidden = true;
  showOnly('view-login');
  state.view = 'login';
  const error = byId('login-error');
  if (state.loginMessage) {
    error.hidden = false;
    error.textContent = t(state.loginMessage);
  } else {
    error.hidden = true;
  }
  byId('login-key').focus();
}

async function login(event) {
  event.preventDefault();
  const input = byId('login-key');
  const key = input.value.trim();
  const error = byId('login-error');
  const fail = (message, params) => {
    error.hidden = false;
    error.textContent = t(message, params);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  if (!key) return fail('login.empty');
  if (!/^kyso_[0-9a-f]{16}_[A-Za-z0-9_-]+$/.test(key)) return fail('login.malformed');
  const button = byId('login-submit');
  button.disabled = true;
  button.textContent = t('login.checking');
  try {
    // Checked with the key given, before it is kept anywhere.
    state.identity = await getJson('/v1/whoami', { key });
    setApiKey(key);
    input.value = '';
    input.removeAttribute('aria-invalid');
    state.loginMessage = null;
    error.hidden = true;
    route(); // shows the first view and moves the focus to its heading
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) fail('login.refused');
    else if (e instanceof NetworkError) fail('error.network');
    else fail('error.other', { status: e.status || '?' });
  } finally {
    button.disabled = false;
    button.textContent = t('login.submit');
  }
}

function logout() {
  forgetApiKey();
  state.identity = null;
  // The next key starts on its own first page, not on the page the last one was reading.
  history.replaceState(null, '', location.pathname);
  for (const view of Object.values(VIEWS)) view.module.reset();
  state.view = null;
  route();
}

function switchLanguage() {
  setLang(lang() === 'vi' ? 'en' : 'vi');
  applyStatic();
  updateLanguageButton();
  if (state.identity) showFrame();
  for (const view of Object.values(VIEWS)) view.module.rerender();
  if (state.view === 'login') {
    const error = byId('login-error');
    if (!error.hidden && state.loginMessage) error.textContent = t(state.loginMessage);
  }
  if (state.view === 'denied') route();
}

/** The switch names the other language in that language (and says so to screen readers). */
function updateLanguageButton() {
  const button = byId('language');
  button.textContent = t('app.switch');
  button.lang = t('app.switchLang');
}

function showFatal(message) {
  const node = byId('fatal');
  node.hidden = false;
  replace(node, el('span', {}, message));
}

boot();
