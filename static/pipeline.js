// Pipeline pages: drag-and-drop upload with a file list, and review-queue keyboard shortcuts.
(function () {
  "use strict";
  function setupUpload() {
    var zone = document.getElementById("dropzone"), input = document.getElementById("images"), list = document.getElementById("chosen");
    if (!zone || !input) return;
    function show() {
      list.innerHTML = "";
      Array.prototype.forEach.call(input.files, function (f, i) {
        var li = document.createElement("li");
        li.textContent = (i === 0 ? "★ " : "") + f.name + " (" + (f.size / 1048576).toFixed(1) + " MB)";
        list.appendChild(li);
      });
    }
    ["dragenter", "dragover"].forEach(function (n) { zone.addEventListener(n, function (e) { e.preventDefault(); zone.classList.add("over"); }); });
    ["dragleave", "drop"].forEach(function (n) { zone.addEventListener(n, function (e) { e.preventDefault(); zone.classList.remove("over"); }); });
    zone.addEventListener("drop", function (e) {
      var dt = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
      Array.prototype.forEach.call(e.dataTransfer.files, function (f) { dt.items.add(f); });
      input.files = dt.files; show();
    });
    input.addEventListener("change", show);
  }
  function setupReview() {
    document.addEventListener("keydown", function (e) {
      var box = document.getElementById("review"), t = e.target.tagName;
      if (!box) return;
      if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "j" || e.key === "s") { window.location = box.dataset.next; }
      else if (e.key === "k") { window.location = box.dataset.prev; }
      else if (e.key === "a") { var f = document.getElementById("approve-form"); if (f.reportValidity()) f.submit(); }
    });
  }
  function setupSuggestions() {
    // "Use" beside a suggestion puts its value into the field; nothing is saved until Approve.
    document.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("[data-fill]") : null;
      if (!button) return;
      var input = document.getElementById(button.dataset.fill);
      if (input) { input.value = button.dataset.value; input.focus(); }
    });
    document.querySelectorAll("form.filters select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setupUpload(); setupReview(); setupSuggestions(); });
})();
