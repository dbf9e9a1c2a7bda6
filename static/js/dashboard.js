// Small behaviours on top of htmx and Bootstrap. No user data is ever inserted as HTML here.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  navigator.clipboard?.writeText(button.getAttribute("data-copy")).then(() => {
    button.setAttribute("title", "Copied");
  });
});
