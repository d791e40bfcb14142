// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "/static/govuk-frontend.min.js";

initAll();

// A table wider than the screen scrolls inside its own box (the stylesheet does that, with
// a shadow at the edge that has more). Here it is also said in words, and the box can be
// scrolled from the keyboard.
for (const box of document.querySelectorAll(".govuk-table, .app-table-wrapper")) {
  if (box.scrollWidth <= box.clientWidth + 1 || box.closest("[data-app-scrolls]")) continue;
  const caption = box.querySelector("caption");
  box.setAttribute("data-app-scrolls", "");
  box.setAttribute("tabindex", "0");
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", (caption ? caption.textContent.trim() : "Table") + ", scrolls sideways");
  const hint = document.createElement("p");
  hint.className = "govuk-body-s app-scroll-hint";
  hint.textContent = "Scroll sideways to see every column.";
  box.before(hint);
}
