// The desk API over fetch: JSON in and out, the CSRF header on every change, errors as ApiError
// carrying the service's own message (which says what to do).

let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The desk could not do that (HTTP ${status}).`);
    this.status = status;
    this.code = body?.error;
    this.body = body || {};
  }
}

export function setCsrf(token) {
  csrf = token;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, {
      error: "network",
      message: "The desk can't reach the service. Check your connection.",
    });
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
