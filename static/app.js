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
  // Behaviour the templates ask for with data- attributes: the Content-Security-Policy allows
  // no inline handlers, so every click, change and submit rule of the pages lives here.
  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target : e.target.parentElement; if (!el) return;
    var dismiss = el.closest("[data-dismiss]");
    if (dismiss && dismiss.parentElement) { dismiss.parentElement.remove(); return; }
    var row = el.closest("[data-remove-row]");
    if (row) { var tr = row.closest("tr"); if (tr) tr.remove(); return; }
    var select = el.closest("[data-select-on-click]"); if (select) { select.select(); return; }
    var all = el.closest("input[data-select-all]");
    if (all) {
      all.closest("table").querySelectorAll('input[name="' + all.getAttribute("data-select-all") + '"]')
        .forEach(function (b) { b.checked = all.checked; });
      return;
    }
    var pick = el.closest("[data-pick-into]"); if (pick) { pickItem(pick); return; }
    var ask = el.closest("button[data-confirm], input[data-confirm]");
    if (ask && !window.confirm(ask.getAttribute("data-confirm"))) e.preventDefault();
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.hasAttribute && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
  });
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-autosubmit") && e.target.form) e.target.form.requestSubmit();
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (form && form.hasAttribute && form.hasAttribute("data-reset-after-request") && e.detail.successful) form.reset();
  });
  // The item picker: the chosen item's id goes into the field the picker was opened for.
  function pickItem(button) {
    var form = button.closest("form"); if (!form) return;
    var target = button.getAttribute("data-pick-into");
    var input = target ? form.querySelector("#" + CSS.escape(target)) : null;
    if (input) input.value = button.getAttribute("data-item-id");
    var chosen = form.querySelector(".chosen-item"); if (chosen) chosen.textContent = button.getAttribute("data-label");
    var picker = button.closest(".picker"); if (picker) picker.innerHTML = "";
  }
  // Progress bars carry their width as data-percent (a style attribute would break the policy).
  function progressBars(root) {
    (root || document).querySelectorAll("[data-percent]").forEach(function (bar) {
      var value = Math.max(0, Math.min(100, parseFloat(bar.getAttribute("data-percent")) || 0));
      bar.style.width = value + "%";
    });
  }
  progressBars(document);
  document.addEventListener("DOMContentLoaded", function () { progressBars(document); });
  document.addEventListener("htmx:afterSettle", function (e) { progressBars(e.target); });
  // A live element with data-sse-key/data-sse-id re-fetches only for events about it (the payload's
  // key equals the id, or is a list holding it). The filter runs here, before HTMX sees the event,
  // because HTMX's own filters are JavaScript expressions the policy does not let it evaluate.
  var filteredEvents = {};
  function concerns(el, raw) {
    var value;
    try { value = JSON.parse(raw || "{}")[el.getAttribute("data-sse-key")]; } catch (err) { return false; }
    var id = el.getAttribute("data-sse-id");
    return Array.isArray(value) ? value.map(String).indexOf(id) >= 0 : String(value) === id;
  }
  function filterLiveEvents(root) {
    (root || document).querySelectorAll("[data-sse-key]").forEach(function (el) {
      (el.getAttribute("hx-trigger") || "").split(",").forEach(function (part) {
        var m = part.trim().match(/^(sse:[\w-]+)/);
        if (!m || filteredEvents[m[1]]) return;
        filteredEvents[m[1]] = true;
        document.addEventListener(m[1], function (e) {
          var target = e.target;
          if (target.hasAttribute && target.hasAttribute("data-sse-key") && !concerns(target, e.detail && e.detail.data)) e.stopImmediatePropagation();
        }, true);
      });
    });
  }
  filterLiveEvents(document);
  document.addEventListener("htmx:afterSettle", function (e) { filterLiveEvents(e.target); });
  // A live element that its own refresh replaces (hx-swap="outerHTML") would lose an event arriving
  // while that refresh is in flight: HTMX queues it on the old element, which is gone by the time it
  // would run. Such an event is remembered by the element's id and replayed on the new element once
  // it has settled, so the element always ends on the last state.
  var inFlight = new Set(), missed = {}, watchedEvents = {};
  document.addEventListener("htmx:beforeRequest", function (e) { if (e.detail && e.detail.elt) inFlight.add(e.detail.elt); });
  document.addEventListener("htmx:afterRequest", function (e) { if (e.detail && e.detail.elt) inFlight.delete(e.detail.elt); });
  function replacedByItsRefresh(el) {
    return el && el.id && el.hasAttribute && el.hasAttribute("data-live") &&
      (el.getAttribute("hx-swap") || "").indexOf("outerHTML") === 0;
  }
  function watchLiveEvents(root) {
    (root || document).querySelectorAll("[data-live][id]").forEach(function (el) {
      (el.getAttribute("hx-trigger") || "").split(",").forEach(function (part) {
        var m = part.trim().match(/^(sse:[\w-]+)/);
        if (!m || watchedEvents[m[1]]) return;
        watchedEvents[m[1]] = true;
        // Capture phase: the element's state is read before HTMX handles the event (which may start a
        // request at once). An event the filter above would drop is dropped again when replayed.
        document.addEventListener(m[1], function (e) {
          if (replacedByItsRefresh(e.target) && inFlight.has(e.target)) missed[e.target.id] = { type: e.type, detail: e.detail };
        }, true);
      });
    });
  }
  watchLiveEvents(document);
  document.addEventListener("htmx:afterSettle", function (e) {
    watchLiveEvents(e.target);
    Object.keys(missed).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) { delete missed[id]; return; }
      if (inFlight.has(el)) return;
      var event = missed[id]; delete missed[id];
      htmx.trigger(el, event.type, event.detail);
    });
  });
  // A network failure (server down) must not look like nothing happened.
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toasts"); if (!box) return;
    var t = document.createElement("div"); t.className = "toast toast-error"; t.setAttribute("data-autoclose", "");
    t.textContent = "The server did not answer. Check your connection and try again."; box.appendChild(t);
  });
})();
