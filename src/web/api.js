// The service's API as the pages use it: the API key, held in this module's memory only, as a
// bearer token; problem documents (RFC 9457) turned into errors that say what happened.

/**
 * The key of the logged-in clerk, or null. Memory only, never sessionStorage or localStorage:
 * browsers restore those with a reopened tab or a restored session, so on a shared clerk PC the
 * next person could reopen the last person's logged-in tab. The cost: a reload asks to log in.
 */
let key = null;

export function apiKey() {
  return key;
}

export function setApiKey(value) {
  key = value;
}

export function forgetApiKey() {
  key = null;
}

/** A refused or failed request: the HTTP status and the problem document, when there is one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem || null;
  }
}

/** Fetching failed before any answer (the service is down or unreachable). */
export class NetworkError extends Error {}

/**
 * Calls the API. Returns the Response of a 2xx answer; throws ApiError otherwise. A 401 also
 * tells the page (event `kyso:unauthorized`) that the key is no longer good.
 */
export async function call(method, path, options = {}) {
  const headers = new Headers(options.headers || {});
  const bearer = options.key || apiKey();
  if (bearer) headers.set('Authorization', `Bearer ${bearer}`);
  if (options.contentType) headers.set('Content-Type', options.contentType);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body,
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (response.ok) return response;
  let problem = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.startsWith('application/problem+json') || type.startsWith('application/json')) {
    try {
      problem = await response.json();
    } catch (_) {
      problem = null;
    }
  }
  if (response.status === 401 && !options.key) {
    window.dispatchEvent(new CustomEvent('kyso:unauthorized'));
  }
  throw new ApiError(response.status, problem);
}

export async function getJson(path, options) {
  const response = await call('GET', path, options);
  return response.json();
}

/** A query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
