// The API client: the bearer token from sessionStorage on every call, JSON in and out.
const TOKEN_KEY = "pbx-bridge.token";

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token()}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, String(error));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data?.error || response.statusText, data?.field);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return data;
}

/** Live events: EventSource cannot send headers, so /api/events takes ?token= (only it). */
export function openEvents(onEvent, onState) {
  const source = new EventSource(`/api/events?token=${encodeURIComponent(token())}`);
  const kinds = [
    "call.connected", "call.ended", "call.closed", "incident.created", "incident.verified",
    "incident.call_attached", "incident.closed", "handoff.sent", "handoff.escalated",
    "handoff.acknowledged", "handoff.closed", "taker.state",
  ];
  for (const kind of kinds) {
    source.addEventListener(kind, (message) => {
      let data = {};
      try { data = JSON.parse(message.data); } catch { /* ignore a broken frame */ }
      onEvent(kind, data);
    });
  }
  source.onopen = () => onState(true);
  source.onerror = () => onState(source.readyState === EventSource.OPEN);
  return source;
}
