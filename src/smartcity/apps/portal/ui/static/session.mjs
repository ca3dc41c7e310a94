// The citizen's session in this tab: tokens in sessionStorage (gone when the tab closes,
// never sent to other sites), refreshed with the refresh token, revoked at sign-out.
// Every page script talks to the JSON APIs through apiFetch, which adds the bearer token
// and retries once after refreshing an expired access token.

const STORAGE_KEY = "smartcity.portal.session";
// Refresh a little before the access token expires, so a request never races the expiry.
const EXPIRY_MARGIN_MS = 30_000;

export function readConfig(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

export function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
    return saved && saved.accessToken ? saved : null;
  } catch {
    return null;
  }
}

export function saveTokens(answer, previous = null) {
  const session = {
    accessToken: answer.access_token,
    // A refresh that rotates nothing keeps using the refresh token it was given.
    refreshToken: answer.refresh_token || (previous && previous.refreshToken) || null,
    expiresAt: Date.now() + (answer.expires_in || 0) * 1000,
  };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
}

export function clearSession() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** POST an x-www-form-urlencoded body to /auth/token; the parsed answer and its status. */
export async function requestToken(fields) {
  const response = await fetch("/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams(fields),
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    // An empty or non-JSON answer: the status says enough.
  }
  return { ok: response.ok, status: response.status, body };
}

let refreshing = null;

async function refresh(session) {
  if (!session.refreshToken) {
    return null;
  }
  // Concurrent requests share one refresh: a refresh token is single-use.
  refreshing ??= requestToken({
    grant_type: "refresh_token",
    refresh_token: session.refreshToken,
  }).finally(() => {
    refreshing = null;
  });
  const answer = await refreshing;
  if (!answer.ok) {
    clearSession();
    return null;
  }
  return saveTokens(answer.body, session);
}

/** A fresh access token, refreshing it first if it is about to expire; null if signed out. */
export async function accessToken() {
  let session = loadSession();
  if (session && session.expiresAt - EXPIRY_MARGIN_MS < Date.now()) {
    session = await refresh(session);
  }
  return session ? session.accessToken : null;
}

export class SignedOut extends Error {}

/** fetch with the citizen's token; throws SignedOut when the session is gone. */
export async function apiFetch(path, options = {}) {
  const token = await accessToken();
  if (!token) {
    throw new SignedOut("signed out");
  }
  const send = (bearer) =>
    fetch(path, {
      ...options,
      headers: { Accept: "application/json", ...(options.headers || {}), Authorization: `Bearer ${bearer}` },
    });
  let response = await send(token);
  if (response.status === 401) {
    const session = loadSession();
    const renewed = session ? await refresh(session) : null;
    if (!renewed) {
      throw new SignedOut("signed out");
    }
    response = await send(renewed.accessToken);
  }
  return response;
}

/** The problem document (RFC 7807) of a failed answer, or a stand-in with its status. */
export async function problemOf(response) {
  try {
    const body = await response.json();
    return { status: response.status, ...body };
  } catch {
    return { status: response.status, detail: `HTTP ${response.status}` };
  }
}

/** Revoke the refresh token (and its family) and forget the session. */
export async function signOut() {
  const session = loadSession();
  clearSession();
  if (session && session.refreshToken) {
    try {
      await fetch("/auth/revoke", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: session.refreshToken, token_type_hint: "refresh_token" }),
      });
    } catch {
      // Offline: the session is forgotten here anyway and the token expires by itself.
    }
  }
}

/** Keep ?lang= when moving between the portal's pages. */
export function pageUrl(path) {
  const lang = new URLSearchParams(location.search).get("lang");
  if (!lang) {
    return path;
  }
  // The query goes before a fragment (/me#bill-… from an inbox link).
  const hash = path.indexOf("#");
  const [base, fragment] = hash < 0 ? [path, ""] : [path.slice(0, hash), path.slice(hash)];
  return `${base}${base.includes("?") ? "&" : "?"}lang=${encodeURIComponent(lang)}${fragment}`;
}

/** Show ``message`` in a live region (role=status or role=alert already on the element). */
export function announce(element, message) {
  element.textContent = message;
  element.hidden = !message;
}
