// The console's own behaviour: copy buttons, confirmations, the mobile menu. No third-party
// code here (htmx is vendored beside it); nothing is evaluated from the page.
"use strict";

(() => {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const text = button.dataset.copy || "";
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (plain http): select a temporary field and copy that.
      const field = document.createElement("textarea");
      field.value = text;
      field.setAttribute("readonly", "");
      field.className = "offscreen";
      document.body.append(field);
      field.select();
      document.execCommand("copy");
      field.remove();
    }
    const label = button.textContent;
    button.textContent = "Copied";
    button.classList.add("copied");
    setTimeout(() => {
      button.textContent = label;
      button.classList.remove("copied");
    }, 1500);
  });

  document.addEventListener("submit", (event) => {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-toggle]");
    if (!toggle) return;
    const target = document.getElementById(toggle.dataset.toggle);
    const open = target.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
})();
