// The to-do queue's keyboard: j / k move, Enter opens the selected entry, a assigns it to me.
// The selection is remembered by item key, so a live refresh of the list keeps it where it was.
(function () {
  "use strict";
  var selectedKey = null;
  function entries() { return Array.prototype.slice.call(document.querySelectorAll("#todo .todo-entry")); }
  function select(el) {
    entries().forEach(function (e) { e.classList.remove("selected"); });
    if (!el) { selectedKey = null; return; }
    el.classList.add("selected"); selectedKey = el.getAttribute("data-key");
    el.scrollIntoView({ block: "nearest" });
  }
  function current() { return document.querySelector("#todo .todo-entry.selected"); }
  function fillOffsets(root) {
    // The snooze time is typed in the reader's zone; the server converts it with this offset.
    (root || document).querySelectorAll("[data-tz-offset]").forEach(function (i) { i.value = new Date().getTimezoneOffset(); });
  }
  document.addEventListener("DOMContentLoaded", function () { fillOffsets(document); var s = current(); if (s) selectedKey = s.getAttribute("data-key"); });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.target || e.target.id !== "todo") return;
    fillOffsets(e.target);
    var list = entries(), keep = list.filter(function (el) { return el.getAttribute("data-key") === selectedKey; })[0];
    if (keep) select(keep); else if (current()) selectedKey = current().getAttribute("data-key");
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName)))) return;
    var list = entries(); if (!list.length) return;
    var at = list.indexOf(current());
    if (e.key === "j") { select(list[Math.min(at + 1, list.length - 1)]); e.preventDefault(); }
    else if (e.key === "k") { select(list[Math.max(at - 1, 0)]); e.preventDefault(); }
    else if (e.key === "Enter" && at >= 0) { window.location.href = list[at].getAttribute("data-href"); e.preventDefault(); }
    else if (e.key === "a" && at >= 0) { var b = list[at].querySelector("[data-action=assign]"); if (b) b.click(); e.preventDefault(); }
  });
})();
