// The desk's only script: behaviour that would otherwise be inline (the CSP forbids inline script).
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});
