// Talks to the TranscrevAI service: API key, job submit/poll/result/rename, one error shape.
// Every failure becomes an ApiError carrying the server's own {"error": {"message"}} text.

const KEY_STORAGE = "transcrevai.apiKey";
let memoryKey = ""; // used when localStorage is blocked (private mode)

export class ApiError extends Error {
  constructor(message, status = 0, code = "") {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function getApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || memoryKey;
  } catch {
    return memoryKey;
  }
}

export function setApiKey(value) {
  try {
    if (value) localStorage.setItem(KEY_STORAGE, value);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* not persisted; memoryKey still serves this page */
  }
  memoryKey = value;
}

function withAuth(headers) {
  const h = new Headers(headers || {});
  const key = getApiKey().trim();
  if (key) h.set("Authorization", `Bearer ${key}`);
  return h;
}

async function errorFrom(resp) {
  let message = "";
  let code = "";
  try {
    const body = await resp.json();
    if (body && typeof body.error === "object" && body.error) {
      message = body.error.message || "";
      code = body.error.code || "";
    } else if (body && typeof body.error === "string") {
      message = body.error;
    }
  } catch {
    /* not JSON: fall back to the status line */
  }
  if (!message) message = `O servidor respondeu ${resp.status} ${resp.statusText}`.trim() + ".";
  return new ApiError(message, resp.status, code);
}

async function request(path, init = {}) {
  let resp;
  try {
    resp = await fetch(path, { cache: "no-store", ...init, headers: withAuth(init.headers) });
  } catch {
    throw new ApiError(
      "Não foi possível falar com o servidor (conexão interrompida ou arquivo grande demais).",
      0,
      "network",
    );
  }
  if (!resp.ok) throw await errorFrom(resp);
  return resp;
}

const jobPath = (id) => `/jobs/${encodeURIComponent(id)}`;

/** POST the multipart form; answers the BentoML task id. */
export async function submitJob(formData) {
  const resp = await request("/jobs/transcribe/submit", { method: "POST", body: formData });
  const body = await resp.json();
  if (!body || !body.task_id) throw new ApiError("O servidor não devolveu o id da tarefa.");
  return body.task_id;
}

export async function jobStatus(id) {
  return (await request(jobPath(id))).json();
}

export function resultUrl(id, format) {
  return `${jobPath(id)}/result?format=${encodeURIComponent(format)}`;
}

export async function jobResult(id, format = "json") {
  return request(resultUrl(id, format));
}

export async function renameSpeakers(id, names) {
  const resp = await request(`${jobPath(id)}/speakers`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ names }),
  });
  return (await resp.json()).speaker_names || {};
}
