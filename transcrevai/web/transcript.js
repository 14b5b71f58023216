// Renders a Transcript as speaker turns of clickable words, and lets speakers be renamed.
// All server text goes in through textContent, never as HTML.

const PALETTE_SIZE = 8;

export function formatTime(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${String(m).padStart(2, "0")}:${ss}`;
}

/** Consecutive segments of one speaker become one turn; unlabelled segments stay apart. */
export function groupTurns(segments) {
  const turns = [];
  for (const seg of segments) {
    const last = turns[turns.length - 1];
    if (last && seg.speaker && last.speaker === seg.speaker) last.segments.push(seg);
    else turns.push({ speaker: seg.speaker || null, start: seg.start, segments: [seg] });
  }
  return turns;
}

function speakerIndex(transcript) {
  const order = [...(transcript.speakers || [])];
  for (const seg of transcript.segments || []) {
    if (seg.speaker && !order.includes(seg.speaker)) order.push(seg.speaker);
  }
  return new Map(order.map((label, i) => [label, i % PALETTE_SIZE]));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function wordSpan(text, start, end) {
  const span = el("span", "w", text);
  span.dataset.start = String(start);
  span.dataset.end = String(end);
  span.tabIndex = -1;
  return span;
}

/**
 * Fill `container`; returns {words, setNames}. `words` is sorted by start time:
 * [{start, end, el}], the index the player's highlight searches.
 * onSeek(seconds) is called for word/timestamp activation; onRename(label, name) must
 * return a promise of the server's full speaker_names map.
 */
export function renderTranscript(container, transcript, { onSeek, onRename }) {
  container.replaceChildren();
  const colours = speakerIndex(transcript);
  let names = { ...(transcript.speaker_names || {}) };
  const words = [];
  const display = (label) => names[label] || label;

  for (const turn of groupTurns(transcript.segments || [])) {
    const article = el("article", "turn");
    if (turn.speaker) {
      article.dataset.speaker = turn.speaker;
      article.classList.add(`spk-${colours.get(turn.speaker) ?? 0}`);
    } else {
      article.classList.add("spk-none");
    }
    const head = el("div", "turn-head");
    if (turn.speaker) {
      const name = el("button", "speaker", display(turn.speaker));
      name.type = "button";
      name.dataset.speakerLabel = turn.speaker;
      name.title = "Renomear falante";
      name.setAttribute("aria-describedby", "rename-hint");
      head.append(name);
    }
    const time = el("button", "time", formatTime(turn.start));
    time.type = "button";
    time.dataset.start = String(turn.start);
    time.setAttribute("aria-label", `Ir para ${formatTime(turn.start)}`);
    head.append(time);

    const p = el("p", "turn-text");
    for (const seg of turn.segments) {
      const segWords = seg.words && seg.words.length ? seg.words : null;
      const items = segWords
        ? segWords.map((w) => [w.word.trim(), w.start, w.end])
        : [[seg.text.trim(), seg.start, seg.end]];
      for (const [text, start, end] of items) {
        if (!text) continue;
        const span = wordSpan(text, start, end);
        if (p.childNodes.length) p.append(" ");
        p.append(span);
        words.push({ start, end, el: span });
      }
    }
    article.append(head, p);
    container.append(article);
  }
  words.sort((a, b) => a.start - b.start);
  if (words.length) words[0].el.tabIndex = 0; // roving tabindex: the text is one tab stop

  function setNames(map) {
    names = { ...map };
    for (const btn of container.querySelectorAll("button.speaker")) {
      btn.textContent = display(btn.dataset.speakerLabel);
    }
  }

  function startRename(btn) {
    const label = btn.dataset.speakerLabel;
    const input = el("input", "speaker-input");
    input.type = "text";
    input.maxLength = 80;
    input.value = display(label);
    input.setAttribute("aria-label", `Novo nome para ${display(label)}`);
    btn.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const value = input.value.trim().replace(/\s+/g, " ");
      if (save && value && value !== display(label)) {
        input.disabled = true;
        try {
          setNames(await onRename(label, value));
        } catch {
          /* onRename shows the error; the old name stays */
        }
      }
      btn.textContent = display(label);
      input.replaceWith(btn);
      btn.focus();
    };
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        finish(true);
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
  }

  container.onclick = (ev) => {
    const target = ev.target.closest("button.speaker, button.time, span.w");
    if (!target) return;
    if (target.matches("button.speaker")) startRename(target);
    else onSeek(Number(target.dataset.start));
  };
  container.onkeydown = (ev) => {
    const span = ev.target.closest && ev.target.closest("span.w");
    if (!span) return;
    const all = words.map((w) => w.el);
    const i = all.indexOf(span);
    let next = null;
    if (ev.key === "ArrowRight" || ev.key === "ArrowDown") next = all[i + 1];
    else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") next = all[i - 1];
    else if (ev.key === "Home") next = all[0];
    else if (ev.key === "End") next = all[all.length - 1];
    else if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      onSeek(Number(span.dataset.start));
      return;
    } else return;
    ev.preventDefault();
    if (next) {
      span.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  };
  return { words, setNames };
}
