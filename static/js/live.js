// Live rows. A poller (#live-poller on the list, #detail-poller on a snapshot) learns, while
// the tab is visible, when the rows it watches change; then the poller's own htmx request
// fetches the changed rows and swaps them out of band. Both ways send the page's signed ticket
// in a header and the last stamp the tab knows:
// - told: a server-sent event stream (data-stream-url) held by the async server, which writes a
//   new stamp when a watched row changes. It ends now and then; the tab reconnects at once.
// - asking: where the server holds no streams (204: make run, gunicorn alone) or one failed,
//   a cheap check (data-stamp-url) every data-every ms, answered 204 when nothing changed; a
//   failed stream is tried again after a growing pause, the checks carrying on meanwhile.
// A hidden tab holds no stream and asks nothing, and catches up at once when shown again.
// htmx's slower "every Ns" trigger stays as the fallback; a 286 stops everything.
(() => {
  const watching = new WeakSet();

  function watch(poller) {
    const ticket = poller.dataset.liveTicket;
    if (!ticket || watching.has(poller)) return;
    watching.add(poller);
    const every = Number(poller.dataset.every) || 500;
    const headers = { "X-Live-Ticket": ticket };
    let streamUrl = poller.dataset.streamUrl || "";
    let streamAfter = 0; // ms timestamp: check instead of streaming until then
    let pause = 1000; // before the next try after a failed stream
    let stamp = "";
    let stopped = false;
    let timer = null;
    let busy = false;
    let stream = null; // the open stream's AbortController
    const done = () => stopped || !poller.isConnected;
    const stop = () => {
      stopped = true;
      stream?.abort();
    };
    poller.addEventListener("htmx:afterRequest", (event) => {
      if (event.detail.xhr && event.detail.xhr.status === 286) stop();
    });
    poller.addEventListener("htmx:beforeCleanupElement", stop);
    const told = (value) => {
      stamp = value;
      window.htmx?.trigger(poller, "live-changed");
    };
    const later = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(run, ms);
    };

    const check = async () => {
      try {
        const answer = await fetch(`${poller.dataset.stampUrl}?v=${encodeURIComponent(stamp)}`, {
          headers,
          credentials: "same-origin",
          cache: "no-store",
        });
        if (answer.status === 200) told((await answer.text()).trim());
        else if (answer.status === 403) stopped = true; // an old ticket: the fallback poll goes on
      } catch {
        // offline for a moment: try again at the next check
      }
      later(every);
    };

    const listen = async () => {
      const controller = new AbortController();
      stream = controller;
      let opened = 0; // when the stream opened
      try {
        const answer = await fetch(`${streamUrl}?v=${encodeURIComponent(stamp)}`, {
          headers,
          credentials: "same-origin",
          cache: "no-store",
          signal: controller.signal,
        });
        const type = answer.headers.get("Content-Type") || "";
        if (answer.status === 403) {
          stopped = true;
        } else if ([204, 404, 405].includes(answer.status)) {
          streamUrl = ""; // this server holds no streams: check from now on
        } else if (answer.ok && answer.body && type.startsWith("text/event-stream")) {
          opened = Date.now();
          const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          while (!done()) {
            const { value, done: ended } = await reader.read();
            if (ended) break;
            buffer += value;
            let cut = buffer.indexOf("\n\n");
            while (cut >= 0) {
              for (const line of buffer.slice(0, cut).split("\n")) {
                if (line.startsWith("data:")) told(line.slice(5).trim());
              }
              buffer = buffer.slice(cut + 2);
              cut = buffer.indexOf("\n\n");
            }
          }
          controller.abort();
        }
      } catch {
        // aborted (hidden, stopped) or the connection dropped: decided below
      } finally {
        if (stream === controller) stream = null;
      }
      if (controller.signal.aborted && document.visibilityState !== "visible") return;
      if (!streamUrl || stopped) return later(0);
      if (opened && Date.now() - opened > 2000) {
        pause = 1000; // it served: reconnect at once
        return later(0);
      }
      streamAfter = Date.now() + pause; // failed, or ended at once: check for a while
      pause = Math.min(pause * 2, 60_000);
      later(0);
    };

    const run = async () => {
      timer = null;
      if (done()) {
        document.removeEventListener("visibilitychange", shown);
        return;
      }
      if (document.visibilityState !== "visible" || busy) return; // shown() resumes
      busy = true;
      try {
        if (streamUrl && Date.now() >= streamAfter) await listen();
        else await check();
      } finally {
        busy = false;
      }
    };
    const shown = () => {
      if (document.visibilityState !== "visible") {
        stream?.abort(); // a hidden tab holds no stream
        return;
      }
      if (busy) return;
      clearTimeout(timer);
      run();
    };
    document.addEventListener("visibilitychange", shown);
    run();
  }

  function scan(root) {
    for (const poller of root.querySelectorAll?.("[data-live-ticket]") ?? []) watch(poller);
  }

  document.addEventListener("DOMContentLoaded", () => scan(document));
  document.addEventListener("htmx:load", (event) => scan(event.target.parentNode || document));
})();

// Keyboard comfort for the snapshot pages.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = event.target.closest("details[open].table-settings");
  if (!open) return;
  open.removeAttribute("open");
  open.querySelector("summary")?.focus();
});
