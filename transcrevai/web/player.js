// Plays the user's own file (never re-downloaded) and keeps the spoken word highlighted.

const VIDEO_EXT = /\.(mp4|m4v|mkv|mov|webm|avi|ogv|3gp)$/i;

/** An <audio> or <video> element playing `file` from a blob: URL. */
export function createPlayer(file) {
  const isVideo = file.type.startsWith("video/") || (!file.type && VIDEO_EXT.test(file.name));
  const media = document.createElement(isVideo ? "video" : "audio");
  media.controls = true;
  media.preload = "auto";
  media.id = "player";
  media.setAttribute("aria-label", `Reprodução de ${file.name}`);
  if (isVideo) media.playsInline = true;
  media.src = URL.createObjectURL(file);
  return media;
}

export function releasePlayer(media) {
  if (!media) return;
  media.pause();
  if (media.src.startsWith("blob:")) URL.revokeObjectURL(media.src);
  media.removeAttribute("src");
  media.load();
}

/** Index of the last word starting at or before t (binary search), or -1. */
export function wordAt(words, t) {
  let lo = 0;
  let hi = words.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (words[mid].start <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

const reduceMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

function scrollIntoViewIfNeeded(node) {
  const r = node.getBoundingClientRect();
  const box = node.closest(".transcript-col");
  const bounds = box && box.scrollHeight > box.clientHeight ? box.getBoundingClientRect() : null;
  const top = bounds ? bounds.top : 0;
  const bottom = bounds ? bounds.bottom : window.innerHeight;
  if (r.top < top || r.bottom > bottom) {
    node.scrollIntoView({ block: "center", behavior: reduceMotion() ? "auto" : "smooth" });
  }
}

/**
 * Highlight the word under the playhead: timeupdate/seeked for jumps, requestAnimationFrame
 * while playing for smoothness. Returns a function that stops syncing.
 */
export function syncHighlight(media, words) {
  let current = null;
  let frame = 0;
  const GAP = 0.6; // past a word's end by more than this, nothing is being spoken

  function update() {
    const t = media.currentTime + 0.005;
    const i = wordAt(words, t);
    const w = i >= 0 ? words[i] : null;
    const node = w && t <= Math.max(w.end, w.start) + GAP ? w.el : null;
    if (node === current) return;
    if (current) {
      current.classList.remove("active");
      current.removeAttribute("aria-current");
    }
    current = node;
    if (node) {
      node.classList.add("active");
      node.setAttribute("aria-current", "true");
      if (!media.paused) scrollIntoViewIfNeeded(node);
    }
  }
  function loop() {
    update();
    frame = media.paused ? 0 : requestAnimationFrame(loop);
  }
  function onPlay() {
    if (!frame) frame = requestAnimationFrame(loop);
  }
  const events = [
    ["timeupdate", update],
    ["seeked", update],
    ["play", onPlay],
  ];
  for (const [name, fn] of events) media.addEventListener(name, fn);
  update();
  return () => {
    for (const [name, fn] of events) media.removeEventListener(name, fn);
    if (frame) cancelAnimationFrame(frame);
  };
}
