// Page wiring: pick/drop a file, submit a job, follow its progress, show and export the result.

import {
  ApiError,
  getApiKey,
  jobResult,
  jobStatus,
  renameSpeakers,
  setApiKey,
  submitJob,
} from "./api.js";
import { createPlayer, releasePlayer, syncHighlight } from "./player.js";
import { formatTime, renderTranscript } from "./transcript.js";

const $ = (id) => document.getElementById(id);

const FORMATS = [
  ["json", "JSON", ".json"],
  ["txt", "Texto (TXT)", ".txt"],
  ["srt", "Legendas SRT", ".srt"],
  ["vtt", "Legendas VTT", ".vtt"],
  ["tsv", "Planilha TSV", ".tsv"],
  ["rttm", "RTTM", ".rttm"],
  ["docx", "Word (DOCX)", ".docx"],
  ["textgrid", "Praat TextGrid", ".TextGrid"],
  ["eaf", "ELAN (EAF)", ".eaf"],
];

const STAGES = {
  queued: "Na fila",
  decode: "Lendo o arquivo",
  vad: "Procurando trechos com fala",
  asr: "Transcrevendo",
  diarization: "Separando os falantes",
  done: "Pronto",
  failed: "Falhou",
};

const POLL_MS = 700;
const state = { file: null, jobId: null, media: null, stopSync: null, transcript: null };

// ---- messages --------------------------------------------------------------------------
function showError(message) {
  $("error-message").textContent = message;
  $("error").hidden = false;
  $("error").scrollIntoView({ block: "nearest" });
}

function clearError() {
  $("error").hidden = true;
  $("error-message").textContent = "";
}

function report(err) {
  if (err instanceof ApiError && err.status === 401) {
    $("api-key").closest("details").open = true;
  }
  showError(err instanceof Error ? err.message : String(err));
}

// ---- file choice -------------------------------------------------------------------------
function sizeText(bytes) {
  const mb = bytes / 1048576;
  const fmt = new Intl.NumberFormat("pt-BR", { maximumFractionDigits: 1 });
  return mb >= 1 ? `${fmt.format(mb)} MB` : `${fmt.format(bytes / 1024)} KB`;
}

function chooseFile(file) {
  state.file = file || null;
  $("file-name").textContent = file ? `Selecionado: ${file.name} · ${sizeText(file.size)}` : "";
  $("dropzone").classList.toggle("has-file", Boolean(file));
  if (file) clearError();
}

function wireDropzone() {
  const zone = $("dropzone");
  const input = $("file");
  input.addEventListener("change", () => chooseFile(input.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (ev) => {
      ev.preventDefault();
      zone.classList.add("drag");
    });
  }
  zone.addEventListener("dragleave", (ev) => {
    if (!zone.contains(ev.relatedTarget)) zone.classList.remove("drag");
  });
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("drag");
    const file = ev.dataTransfer && ev.dataTransfer.files[0];
    if (file) chooseFile(file);
  });
  // a file dropped beside the zone must not make the browser navigate away from the page
  for (const name of ["dragover", "drop"]) window.addEventListener(name, (ev) => ev.preventDefault());
}

// ---- options -----------------------------------------------------------------------------
function wireOptions() {
  const diarize = $("diarize");
  const sync = () => ($("speakers").disabled = !diarize.checked);
  diarize.addEventListener("change", sync);
  sync();
  const pairs = [
    ["num-speakers", "spk-exact"],
    ["min-speakers", "spk-range"],
    ["max-speakers", "spk-range"],
  ];
  for (const [field, radio] of pairs) {
    $(field).addEventListener("focus", () => ($(radio).checked = true));
  }
  const key = $("api-key");
  key.value = getApiKey();
  key.addEventListener("input", () => setApiKey(key.value.trim()));
}

function buildForm() {
  const form = new FormData();
  form.append("file", state.file, state.file.name);
  form.append("language", $("language").value);
  form.append("word_timestamps", "true");
  const diarize = $("diarize").checked;
  form.append("diarize", String(diarize));
  if (!diarize) return form;
  const mode = document.querySelector('input[name="spk-mode"]:checked').value;
  const num = (id) => Number.parseInt($(id).value, 10);
  if (mode === "exact") {
    if (!(num("num-speakers") >= 1)) throw new Error("Informe um número de falantes (1 ou mais).");
    form.append("num_speakers", String(num("num-speakers")));
  } else if (mode === "range") {
    const lo = num("min-speakers");
    const hi = num("max-speakers");
    if (!(lo >= 1 && hi >= 1)) throw new Error("Informe o mínimo e o máximo de falantes.");
    if (lo > hi) throw new Error("O mínimo de falantes não pode ser maior que o máximo.");
    form.append("min_speakers", String(lo));
    form.append("max_speakers", String(hi));
  }
  return form;
}

// ---- progress ----------------------------------------------------------------------------
let lastAnnounced = "";

function showProgress(stage, fraction) {
  const pct = Math.round(Math.min(Math.max(fraction || 0, 0), 1) * 100);
  $("progress").value = pct;
  const label = STAGES[stage] || stage || "Processando";
  // the live region speaks on stage changes and every 10 %, not on every poll
  const text = `${label}… ${Math.floor(pct / 10) * 10}%`;
  if (text !== lastAnnounced) {
    lastAnnounced = text;
    $("progress-text").textContent = `${label}… ${pct}%`;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForJob(jobId) {
  let misses = 0;
  for (;;) {
    let st;
    try {
      st = await jobStatus(jobId);
      misses = 0;
    } catch (err) {
      const transient = err instanceof ApiError && (err.status === 0 || err.status >= 502);
      if (!transient || ++misses > 10) throw err;
      await sleep(POLL_MS * 3);
      continue;
    }
    if (st.status === "failed") {
      throw new ApiError((st.error && st.error.message) || "A transcrição falhou.", 0, "failed");
    }
    showProgress(st.stage, st.progress);
    if (st.status === "done") return st;
    await sleep(POLL_MS);
  }
}

// ---- result ------------------------------------------------------------------------------
function localName() {
  return state.file ? state.file.name : "";
}

function metaText(tr) {
  const parts = [localName() || tr.source_name || ""].filter(Boolean);
  parts.push(`duração ${formatTime(tr.duration)}`);
  if (tr.language) parts.push(`idioma ${tr.language}`);
  if (tr.variety) parts.push(`variante ${tr.variety.label} (${Math.round(tr.variety.confidence * 100)}%)`);
  if (tr.speakers && tr.speakers.length) parts.push(`${tr.speakers.length} falante(s)`);
  return parts.join(" · ");
}

/** Downloads are named after the user's own file (the server only sees a temporary name). */
function downloadName(ext) {
  const stem = localName().replace(/\.[^.]+$/, "") || "transcricao";
  return stem + ext;
}

async function download(format, ext, button) {
  button.disabled = true;
  try {
    const resp = await jobResult(state.jobId, format);
    const url = URL.createObjectURL(await resp.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = downloadName(ext);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    report(err);
  } finally {
    button.disabled = false;
  }
}

function renderDownloads() {
  const box = $("download-buttons");
  box.replaceChildren();
  for (const [format, label, ext] of FORMATS) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "download";
    b.dataset.format = format;
    b.textContent = label;
    b.addEventListener("click", () => download(format, ext, b));
    box.append(b);
  }
}

function showResult(transcript) {
  state.transcript = transcript;
  $("meta").textContent = metaText(transcript);
  const media = createPlayer(state.file);
  state.media = media;
  $("player-slot").replaceChildren(media);
  media.addEventListener("error", () => {
    $("player-note").hidden = false;
    $("player-note").textContent =
      "Este navegador não consegue tocar o arquivo; o texto e os downloads continuam disponíveis.";
  });
  const view = renderTranscript($("transcript"), transcript, {
    onSeek: (t) => {
      media.currentTime = t;
    },
    onRename: async (label, name) => {
      try {
        clearError();
        const names = await renameSpeakers(state.jobId, { [label]: name });
        state.transcript.speaker_names = names;
        return names;
      } catch (err) {
        report(err);
        throw err;
      }
    },
  });
  state.stopSync = syncHighlight(media, view.words);
  renderDownloads();
  $("result").dataset.jobId = state.jobId;
  $("result").hidden = false;
}

function resetResult() {
  if (state.stopSync) state.stopSync();
  releasePlayer(state.media);
  Object.assign(state, { media: null, stopSync: null, transcript: null, jobId: null });
  $("result").hidden = true;
  $("player-note").hidden = true;
  $("transcript").replaceChildren();
}

// ---- submit ------------------------------------------------------------------------------
async function onSubmit(ev) {
  ev.preventDefault();
  clearError();
  if (!state.file) {
    showError("Escolha um arquivo de áudio ou vídeo primeiro.");
    $("file").focus();
    return;
  }
  let form;
  try {
    form = buildForm();
  } catch (err) {
    report(err);
    return;
  }
  resetResult();
  const submit = $("submit");
  submit.disabled = true;
  $("upload-form").setAttribute("aria-busy", "true");
  $("progress-card").hidden = false;
  lastAnnounced = "";
  $("progress").value = 0;
  $("progress-text").textContent = "Enviando o arquivo…";
  try {
    state.jobId = await submitJob(form);
    await waitForJob(state.jobId);
    const transcript = await (await jobResult(state.jobId, "json")).json();
    $("progress-card").hidden = true;
    showResult(transcript);
    $("result-title").focus();
  } catch (err) {
    $("progress-card").hidden = true;
    report(err);
  } finally {
    submit.disabled = false;
    $("upload-form").removeAttribute("aria-busy");
  }
}

function init() {
  wireDropzone();
  wireOptions();
  $("result-title").tabIndex = -1;
  $("upload-form").addEventListener("submit", onSubmit);
}

init();
