// The page's only way to the Cluster API: relative URLs (so any base path works), the
// bearer token of this browser tab, and problem+json errors turned into ApiError.
//
// The token lives in sessionStorage (this tab, until it closes) and travels only as an
// Authorization header; requests never carry cookies, so no other site can make this
// browser act with the person's rights.

const TOKEN_KEY = "nomad-bridge.token";

/** An answer other than 2xx, as RFC 9457 says it: status, title, detail (and the body). */
export class ApiError extends Error {
  constructor(status, title, detail, body = null) {
    super(`${status} ${title}: ${detail}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.body = body;
  }
}

let askForToken = async () => {
  throw new ApiError(401, "Unauthorized", "this bridge needs a token");
};
let asking = null;

/** `ask(reason)` resolves to a token typed by the person (the page's token dialog). */
export function onTokenNeeded(ask) {
  askForToken = ask;
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** One prompt for every request that met a 401 meanwhile. */
function newToken(reason) {
  if (asking === null) {
    asking = askForToken(reason)
      .then((typed) => sessionStorage.setItem(TOKEN_KEY, typed))
      .finally(() => {
        asking = null;
      });
  }
  return asking;
}

/**
 * Send one request; on 401 ask for a token and send it again (a refused request changed
 * nothing, so sending it again is safe). Resolves to the Response, whatever its status.
 */
export async function request(method, path, { body, headers = {} } = {}) {
  for (;;) {
    const sent = token();
    const init = {
      method,
      headers: { ...headers },
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    };
    if (sent) init.headers.Authorization = `Bearer ${sent}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status !== 401) return response;
    if (token() === sent) {
      sessionStorage.removeItem(TOKEN_KEY);
      await newToken(sent ? "The bridge refused that token; enter another." : "This bridge needs a token.");
    }
  }
}

/** The ApiError an unsuccessful response stands for (problem+json, or whatever came). */
export async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's error page, say
  }
  const title = (body && typeof body.title === "string" && body.title) || response.statusText || "Error";
  const detail = (body && typeof body.detail === "string" && body.detail) || "no detail given";
  return new ApiError(response.status, title, detail, body);
}

/** A mutation: POST, JSON in and out; rejects with ApiError unless 2xx. */
export async function post(path, body) {
  const response = await request("POST", path, { body });
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

/** Job names go into one path segment each, percent-encoded (`a/b` stays one name). */
export function jobPath(action, name) {
  return `jobs/${action}/${encodeURIComponent(name)}`;
}
