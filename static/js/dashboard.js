// Small behaviours on top of htmx and Bootstrap. No user data is ever inserted as HTML here.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  navigator.clipboard?.writeText(button.getAttribute("data-copy")).then(() => {
    button.setAttribute("title", "Copied");
  });
});

// A select marked data-autosubmit sends its form when changed (no inline handlers: the CSP).
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit();
});

// Polling (hx-trigger="every ...") pauses while the tab is hidden. This is done here, not as
// an hx-trigger filter expression, because those need eval, which the CSP forbids.
document.addEventListener("htmx:beforeRequest", (event) => {
  const trigger = event.detail.elt.getAttribute("hx-trigger") || "";
  if (/(^|,)\s*every\s/.test(trigger) && document.visibilityState !== "visible") {
    event.preventDefault();
  }
});
