// Live rows. A poller (#live-poller on the list, #detail-poller on a snapshot) asks the server,
// every data-every ms while the tab is visible, whether the rows it watches changed: one cheap
// request with the page's signed ticket in a header, answered 204 when nothing did. When the
// answer is a new stamp, the poller's own htmx request fetches the changed rows and swaps them
// out of band. A hidden tab asks nothing and asks at once when it is shown again. htmx's slower
// "every Ns" trigger stays as the fallback; a 286 stops both.
(() => {
  const watching = new WeakSet();

  function watch(poller) {
    const ticket = poller.dataset.liveTicket;
    if (!ticket || watching.has(poller)) return;
    watching.add(poller);
    const every = Number(poller.dataset.every) || 500;
    let stamp = "";
    let stopped = false;
    let timer = null;
    let asking = false;
    poller.addEventListener("htmx:afterRequest", (event) => {
      if (event.detail.xhr && event.detail.xhr.status === 286) stopped = true;
    });
    const done = () => stopped || !poller.isConnected;
    const check = async () => {
      timer = null;
      if (done()) {
        document.removeEventListener("visibilitychange", shown);
        return;
      }
      if (document.visibilityState !== "visible") return; // shown() asks again
      asking = true;
      try {
        const url = `${poller.dataset.stampUrl}?v=${encodeURIComponent(stamp)}`;
        const answer = await fetch(url, {
          headers: { "X-Live-Ticket": ticket },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (answer.status === 200) {
          stamp = (await answer.text()).trim();
          window.htmx?.trigger(poller, "live-changed");
        } else if (answer.status === 403) {
          stopped = true; // an old ticket: the fallback poll carries on
        }
      } catch {
        // offline for a moment: try again at the next check
      } finally {
        asking = false;
      }
      timer = setTimeout(check, every);
    };
    const shown = () => {
      if (document.visibilityState !== "visible" || asking) return;
      clearTimeout(timer);
      check();
    };
    document.addEventListener("visibilitychange", shown);
    check();
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
