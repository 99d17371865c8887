// A job's output, live: the lines the API's stream sends (GET /api/v1/jobs/<id>/output/stream,
// Server-Sent Events, authenticated by the session cookie), stdout and stderr told apart,
// ANSI colours rendered by ansi_up, the last `cap` lines kept in the page. The page's header
// is refreshed (htmx) when the first line of a job the page showed as not started yet comes
// (it runs now), and when the stream's end event comes (its final state); so is what the job
// ran (its command and environment). "Follow" is offered while the job may still write.

import { AnsiUp } from "../vendor/ansi_up.js";
import { counted, stateName, text } from "./i18n.js";

const STREAM_TIMEOUT = 300; // seconds the server keeps one stream open; then we reconnect
const BUSY_RETRY_MS = 2000; // after a "busy" answer
const NOT_STARTED = ["scheduled", "queued", "waiting", "blocked"];

function converter() {
  const ansi = new AnsiUp();
  ansi.use_classes = true;
  return ansi;
}

// ansi_up writes bold, italic and 24-bit colours as style attributes, which the page's
// Content-Security-Policy refuses in markup: they are applied through the CSSOM instead.
function render(ansi, text) {
  const holder = document.createElement("span");
  holder.innerHTML = ansi.ansi_to_html(text).replaceAll("<span style=\"", "<span data-ansi-style=\"");
  for (const styled of holder.querySelectorAll("[data-ansi-style]")) {
    styled.style.cssText = styled.dataset.ansiStyle;
    styled.removeAttribute("data-ansi-style");
  }
  return holder;
}

class OutputView {
  constructor(pre) {
    this.pre = pre;
    this.url = pre.dataset.stream;
    this.after = Number(pre.dataset.after || 0);
    this.cap = Number(pre.dataset.cap || 2000);
    this.lastSeq = this.after;
    this.total = Number(pre.dataset.total || 0);
    this.finishedAtStart = pre.dataset.finished === "true";
    this.dropped = this.after;
    this.following = true;
    this.pending = [];
    this.scheduled = false;
    this.converters = new Map();
    this.count = document.getElementById("output-count");
    this.status = document.getElementById("output-status");
    this.note = document.getElementById("output-dropped");
    this.noteCount = document.getElementById("output-dropped-count");
    this.follow = document.getElementById("output-follow");
    if (this.follow) {
      this.follow.hidden = false;
      this.follow.addEventListener("click", () => this.setFollowing(!this.following));
    }
  }

  setFollowing(on) {
    this.following = on;
    this.follow.setAttribute("aria-pressed", on ? "true" : "false");
    this.follow.textContent = on
      ? text("output.following", "Following")
      : text("output.follow", "Follow");
    if (on) this.scrollDown();
  }

  scrollDown() {
    this.pre.scrollTop = this.pre.scrollHeight;
  }

  converterOf(stream) {
    if (!this.converters.has(stream)) this.converters.set(stream, converter());
    return this.converters.get(stream);
  }

  add(line) {
    if (line.seq <= this.lastSeq) return; // a reconnect may repeat what we have
    if (!this.started) {
      this.started = true;
      const header = document.getElementById("job-header");
      if (header && NOT_STARTED.includes(header.dataset.state)) {
        document.body.dispatchEvent(new CustomEvent("job-started"));
      }
    }
    this.lastSeq = line.seq;
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  flush() {
    this.scheduled = false;
    const batch = this.pending.splice(0);
    const fragment = document.createDocumentFragment();
    for (const line of batch) {
      const row = render(this.converterOf(line.stream), line.text);
      row.className = `line ${line.stream}`;
      row.dataset.seq = line.seq;
      row.dataset.stream = line.stream;
      row.dataset.testid = "output-line";
      if (line.stream !== "stdout") row.title = line.stream;
      fragment.append(row);
    }
    this.pre.append(fragment);
    let removed = 0;
    while (this.pre.childElementCount > this.cap) {
      this.pre.firstElementChild.remove();
      removed += 1;
    }
    if (removed) {
      this.dropped += removed;
      this.note.hidden = false;
      this.noteCount.textContent = String(this.dropped);
    }
    this.total = Math.max(this.total, this.lastSeq);
    this.count.textContent = counted("lines", this.total, `${this.total} lines`);
    if (this.following) this.scrollDown();
  }

  say(text) {
    this.status.textContent = text;
  }

  open() {
    const source = new EventSource(`${this.url}?after=${this.lastSeq}&timeout=${STREAM_TIMEOUT}`);
    this.source = source;
    this.say(this.finishedAtStart ? "" : text("output.live", "live"));
    source.addEventListener("line", (event) => this.add(JSON.parse(event.data)));
    source.addEventListener("end", (event) => {
      source.close();
      const end = JSON.parse(event.data);
      if (this.follow) this.follow.hidden = true; // nothing more to follow
      const ended = text("output.ended", "ended: {state}").replace("{state}", stateName(end.state));
      this.say(this.finishedAtStart ? "" : ended);
      if (!this.finishedAtStart) document.body.dispatchEvent(new CustomEvent("job-ended"));
    });
    source.addEventListener("timeout", () => {
      source.close();
      this.open();
    });
    // the server follows as many streams as it can: it sent what is stored; ask again soon
    source.addEventListener("busy", () => {
      source.close();
      this.say(text("output.busy", "live (server busy: refreshed every few seconds)"));
      setTimeout(() => this.open(), BUSY_RETRY_MS);
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        this.say(text("output.unavailable", "live output unavailable: reload the page"));
      } else this.say(text("output.reconnecting", "reconnecting…"));
    });
    source.addEventListener("open", () => {
      if (!this.finishedAtStart) this.say(text("output.live", "live"));
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const pre = document.getElementById("job-output");
  if (pre) new OutputView(pre).open();
});
