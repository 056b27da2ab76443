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
  // A live element must end on the last state even when an event comes while it is being replaced
  // (hx-swap="outerHTML", by its own refresh or by a button inside it). Two such events would be
  // lost: one arriving while the element's own refresh is in flight (HTMX queues the next refresh
  // on the old element, gone by the time it would run), and one arriving from the swap until the
  // new element has settled (HTMX's settle delay): it lands on the old, detached element, which
  // asks for nothing, while the new one does not listen yet. Either way the element that replaced
  // it (same id) is refreshed once it has settled.
  var refreshing = new Set(), owed = {};
  function isLive(el) { return !!(el && el.id && el.hasAttribute && el.hasAttribute("data-live")); }
  function replacedByItsRefresh(el) { return isLive(el) && (el.getAttribute("hx-swap") || "").indexOf("outerHTML") === 0; }
  function lost(el) {
    if (el.isConnected) return refreshing.has(el);
    var replacement = document.getElementById(el.id);
    return !!replacement && !replacement.__stockroomSettled;  // a settled replacement heard it itself
  }
  function listenWhileReplaced(el) {
    if (el.__stockroomListens) return;
    el.__stockroomListens = true;
    (el.getAttribute("hx-trigger") || "").split(",").forEach(function (part) {
      // News (sse:…) and the page's own "re-fetch everything" (stockroom:resync: after a reconnect,
      // or when the server says events were lost, often just as the page's first refreshes run).
      var m = part.trim().match(/^((?:sse|stockroom):[\w-]+)/);
      // On the element itself (a detached element's events never reach the document), in the capture
      // phase: before HTMX's own listener starts the refresh this event asks for. The filter above
      // (data-sse-key) runs earlier still, on the document, and may have stopped the event.
      if (m) el.addEventListener(m[1], function () { if (lost(el)) owed[el.id] = true; }, true);
    });
  }
  // A re-fetch asked of an element that was swapped in but has not settled yet: HTMX does not listen
  // on it until then, so the element refreshes once it has settled.
  document.addEventListener("stockroom:resync", function (e) {
    var el = e.target;
    if (isLive(el) && el.isConnected && !el.__stockroomSettled) owed[el.id] = true;
  }, true);
  function settled(root) {
    if (isLive(root)) { root.__stockroomSettled = true; listenWhileReplaced(root); }
    if (root.querySelectorAll) root.querySelectorAll("[data-live][id]").forEach(function (el) { el.__stockroomSettled = true; listenWhileReplaced(el); });
  }
  // A form (or button) inside a live element that sends something: until its answer has landed, an
  // answer to that element's own refresh is older than what the person did. Swapped in first, it
  // would replace the element (the form's answer then has nowhere to land, and what was typed
  // comes back), so it is dropped and the element refreshes again once the form's answer is in.
  var sending = {};
  function answerLanded(id) {
    if (--sending[id] > 0) return;
    delete sending[id];
    var el = document.getElementById(id);
    // Replaced by the answer: it refreshes once settled (below). Not replaced: now.
    if (owed[id] && el && el.__stockroomSettled && !refreshing.has(el)) { delete owed[id]; htmx.trigger(el, "stockroom:resync"); }
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var d = e.detail || {}, el = d.elt;
    if (!d.xhr) return;
    var verb = ((d.requestConfig && d.requestConfig.verb) || "get").toLowerCase();
    var live = verb !== "get" && el && el.parentElement && el.parentElement.closest("[data-live][id]");
    if (live) {
      var id = live.id;
      sending[id] = (sending[id] || 0) + 1;
      d.xhr.addEventListener("loadend", function () { answerLanded(id); });  // after HTMX swapped the answer in
    }
    if (!replacedByItsRefresh(el)) return;
    refreshing.add(el);
    // Not on htmx:afterRequest: HTMX reports the end of a request whose element it replaced on an
    // ancestor, not on the element.
    d.xhr.addEventListener("loadend", function () { refreshing.delete(el); });
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    settled(e.target);
    Object.keys(owed).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) { delete owed[id]; return; }
      if (!el.__stockroomSettled || refreshing.has(el)) return;
      delete owed[id];
      htmx.trigger(el, "stockroom:resync");
    });
  });
  settled(document);
  document.addEventListener("DOMContentLoaded", function () { settled(document); });
  // A live element's refresh keeps what the person was typing in it: a field they changed (and the
  // field they were in) is carried over to the same field of the new element, so news from others
  // never wipes a half-filled form. A person's own submit is not such a refresh: its answer wins.
  var typed = {};
  function changedFields(root) {
    var found = [];
    root.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (f) {
      if (f.type === "hidden" || f.type === "file" || f.type === "submit") return;
      var changed = f.type === "checkbox" || f.type === "radio" ? f.checked !== f.defaultChecked
        : f.tagName === "SELECT" ? Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; })
        : f.value !== f.defaultValue;
      if (changed || f === document.activeElement) found.push(f);
    });
    return found;
  }
  // An open disclosure (<details>) stays as the person left it: a form they opened to fill in does not
  // fold shut (hiding what they typed) because news about the card came in. Named by its id, or by
  // its summary and the row it sits in (a log line's "details"), so rows added above do not move it.
  var disclosures = {};
  function disclosureKeys(root) {
    var seen = {};
    return Array.prototype.map.call(root.querySelectorAll("details"), function (d) {
      var summary = d.querySelector("summary"), row = d.parentElement && d.parentElement.closest("tr, li");
      var key = d.id || ((summary ? summary.textContent.trim() : "") + "|" + (row && root.contains(row) ? row.textContent.trim().slice(0, 200) : ""));
      seen[key] = (seen[key] || 0) + 1;
      return { el: d, key: key + "#" + seen[key] };
    });
  }
  function fieldKey(f) { return (f.form ? f.form.getAttribute("hx-post") || f.form.getAttribute("action") || "" : "") + "|" + f.name + "|" + (f.type === "radio" || f.type === "checkbox" ? f.value : ""); }
  document.addEventListener("htmx:beforeSwap", function (e) {
    // Who asked is requestConfig.elt: HTMX sets the event's own detail.elt to the element the event
    // fires on, which for a swap is always the target (a submit's answer looked like a refresh).
    var d = e.detail || {}, target = d.target, asker = d.requestConfig && d.requestConfig.elt;
    if (!isLive(target)) return;
    if (asker !== target || !d.shouldSwap) { delete typed[target.id]; delete disclosures[target.id]; return; }
    if (sending[target.id]) { d.shouldSwap = false; owed[target.id] = true; return; }  // a form inside waits for its answer
    var open = {};
    disclosureKeys(target).forEach(function (k) { open[k.key] = k.el.open; });
    disclosures[target.id] = open;
    var fields = changedFields(target);
    if (!fields.length) return;
    typed[target.id] = fields.map(function (f) {
      return { key: fieldKey(f), value: f.value, checked: f.checked, focused: f === document.activeElement,
               selected: f.tagName === "SELECT" ? Array.prototype.map.call(f.selectedOptions, function (o) { return o.value; }) : null };
    });
  });
  // Put back at once (on the swap, not the settle): what is typed in the new element meanwhile stays.
  document.addEventListener("htmx:afterSwap", function (e) {
    var id = e.target && e.target.id, saved = id && typed[id], open = id && disclosures[id];
    if (!saved && !open) return;
    delete typed[id]; delete disclosures[id];
    var root = document.getElementById(id); if (!root) return;  // the event may name the element it replaced
    if (open) disclosureKeys(root).forEach(function (k) { if (k.key in open) k.el.open = open[k.key]; });
    if (!saved) return;
    var byKey = {};
    root.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (f) { byKey[fieldKey(f)] = f; });
    saved.forEach(function (s) {
      var f = byKey[s.key]; if (!f || f.disabled) return;
      if (s.selected) Array.prototype.forEach.call(f.options, function (o) { o.selected = s.selected.indexOf(o.value) >= 0; });
      else if (f.type === "checkbox" || f.type === "radio") f.checked = s.checked;
      else f.value = s.value;
      if (s.focused) f.focus();
    });
  });
  // A network failure (server down) must not look like nothing happened.
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toasts"); if (!box) return;
    var t = document.createElement("div"); t.className = "toast toast-error"; t.setAttribute("data-autoclose", "");
    t.textContent = "The server did not answer. Check your connection and try again."; box.appendChild(t);
  });
})();
