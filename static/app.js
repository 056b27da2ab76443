// Small helpers: local times, live indicator, re-fetch live cards after a reconnect, toasts.
(function () {
  "use strict";
  function localTimes(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }); el.title = el.getAttribute("datetime"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:afterSettle", function (e) { localTimes(e.target); });

  var opened = 0;
  document.addEventListener("htmx:sseOpen", function () {
    var dot = document.getElementById("live-dot"); if (dot) dot.classList.add("on");
    // Events sent while we were disconnected are not replayed: refresh every live element.
    if (opened++ > 0) document.querySelectorAll("[data-live]").forEach(function (el) { htmx.trigger(el, "stockroom:resync"); });
  });
  document.addEventListener("htmx:sseError", function () {
    var dot = document.getElementById("live-dot"); if (dot) dot.classList.remove("on");
  });
  document.addEventListener("htmx:sseMessage", function (e) {
    if (e.detail && e.detail.type === "resync") document.querySelectorAll("[data-live]").forEach(function (el) { htmx.trigger(el, "stockroom:resync"); });
  });
  // Toasts close by themselves after a while.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("#toasts [data-autoclose]:not([data-timer])").forEach(function (t) {
      t.setAttribute("data-timer", "1"); setTimeout(function () { t.remove(); }, 8000);
    });
  });
  // A network failure (server down) must not look like nothing happened.
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toasts"); if (!box) return;
    var t = document.createElement("div"); t.className = "toast toast-error"; t.setAttribute("data-autoclose", "");
    t.textContent = "The server did not answer. Check your connection and try again."; box.appendChild(t);
  });
})();
