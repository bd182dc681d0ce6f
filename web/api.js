// The JSON API at /api/v3, with the key from session storage in x-api-key
// (never in a URL), and its error envelope turned into an ApiError.

const KEY_NAME = 'webhooks-server.api-key';
export const API_BASE = '/api/v3';

export function getKey() {
  return sessionStorage.getItem(KEY_NAME) || '';
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key);
  else sessionStorage.removeItem(KEY_NAME);
}

// {message, suggested_fix, errors, request_id, slug, status} from the API's
// {"error": {...}} envelope, or a made-up one for a network failure.
export class ApiError extends Error {
  constructor(status, envelope) {
    super(envelope.message || `HTTP ${status}`);
    this.status = status;
    this.suggestedFix = envelope.suggested_fix || '';
    this.errors = Array.isArray(envelope.errors) ? envelope.errors.map(String) : [];
    this.requestId = envelope.request_id || '';
    this.slug = envelope.slug || '';
  }
}

let unauthorizedHandler = () => {};
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

// Path segment, encoded.
export function seg(value) {
  return encodeURIComponent(String(value));
}

// Builds "?a=1&b=2" from the defined entries of `params`.
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// Sends one request; resolves with {status, body} on a 2xx, else throws
// ApiError. `body` undefined sends none.
export async function request(method, path, body) {
  // Signed out meanwhile (a view's late refresh): nothing to send.
  if (!getKey()) throw new ApiError(401, { message: 'No API key.' });
  const headers = { 'x-api-key': getKey(), accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API_BASE + path, init);
  } catch (e) {
    throw new ApiError(0, {
      message: `The server could not be reached (${e.message}).`,
      suggested_fix: 'Check that webhooks-server is running, then try again.',
    });
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const envelope = json && json.error && typeof json.error === 'object' ? json.error : {};
    const err = new ApiError(res.status, {
      message: envelope.message || `The server answered HTTP ${res.status}.`,
      ...envelope,
    });
    if (res.status === 401) unauthorizedHandler(err);
    throw err;
  }
  return { status: res.status, body: json };
}

export async function api(method, path, body) {
  return (await request(method, path, body)).body;
}

// Every page of a cursor-paged list (for small lists: the endpoint picker).
export async function listAll(path, params = {}) {
  const items = [];
  let cursor;
  for (let pages = 0; pages < 50; pages += 1) {
    const page = await api('GET', path + query({ ...params, cursor }));
    items.push(...(page.items || []));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// Setup fields as [{name, display_name, description, is_required, is_secret}],
// from either an object keyed by name (the schema route) or an array.
export function normalizeFields(fields) {
  if (Array.isArray(fields)) return fields.map((f) => ({ ...f, name: f.name || f.field_name || '' }));
  return Object.entries(fields || {}).map(([name, f]) => ({ ...f, name }));
}
