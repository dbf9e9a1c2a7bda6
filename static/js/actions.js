// Action forms: add metadata rows, select-all boxes, and one submit per click.
// New rows are copies of a <template> whose field names get the next index: no HTML is built
// from strings here, so no user data can become markup.
(() => {
  const addRow = (button) => {
    const form = button.closest("form");
    const template = form.querySelector("#metadata-row-template");
    const body = form.querySelector("[data-rows]");
    const total = form.querySelector('input[name$="-TOTAL_FORMS"]');
    if (!template || !body || !total) return;
    const index = String(Number(total.value));
    const copy = template.content.cloneNode(true);
    copy.querySelectorAll("[name], [id], [for]").forEach((el) => {
      for (const attr of ["name", "id", "for"]) {
        const value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replaceAll("__prefix__", index));
      }
    });
    body.appendChild(copy);
    total.value = String(Number(total.value) + 1);
    body.querySelector("tr[data-row]:last-child input:not([type=hidden])")?.focus();
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-add-row]").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => addRow(button));
    });
    document.querySelectorAll("[data-select-all]").forEach((box) => {
      box.addEventListener("change", () => {
        box.closest("table").querySelectorAll('tbody input[type=checkbox][name="ids"]')
          .forEach((item) => { item.checked = box.checked; });
      });
    });
    // A second click while the first submit is on its way does nothing (the idempotency key
    // on the server makes a resubmit harmless anyway).
    document.querySelectorAll("form").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (form.dataset.submitting) {
          event.preventDefault();
          return;
        }
        form.dataset.submitting = "1";
        form.querySelectorAll("button[data-once]").forEach((b) => b.classList.add("disabled"));
      });
    });
  });
  // Coming back with the browser's Back button must give a usable form again.
  window.addEventListener("pageshow", () => {
    document.querySelectorAll("form[data-submitting]").forEach((form) => {
      delete form.dataset.submitting;
      form.querySelectorAll("button[data-once]").forEach((b) => b.classList.remove("disabled"));
    });
  });
})();
