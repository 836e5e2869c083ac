// The desk's only script: behaviour that would otherwise be inline (the CSP forbids inline script).
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});

// A thread opens on its latest message (after sending, the bot's reply is in view).
document.addEventListener("DOMContentLoaded", () => {
  for (const thread of document.querySelectorAll("ol.thread")) {
    thread.scrollTop = thread.scrollHeight;
  }
});
