// Keyboard comfort for the snapshot pages. Live rows themselves need no script: htmx polls
// (hx-trigger "every Ns" while the tab is visible) and swaps server-rendered rows out of band.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = event.target.closest("details[open].table-settings");
  if (!open) return;
  open.removeAttribute("open");
  open.querySelector("summary")?.focus();
});
