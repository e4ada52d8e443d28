// drwave console: refresh every [data-live] element from its fragment URL once a second, without a
// full reload, except while the person is filling in one of its forms (what they typed stays). A fragment
// that carries data-final="true" is the last one (the execution has ended).
// Nothing else: forms are plain POSTs, so the console works without this script too.
(function () {
  "use strict";
  var PERIOD_MS = 1000;

  // Whether the person is filling in a form inside `element`: a field has focus or differs from its default.
  function editing(element) {
    var fields = element.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field === document.activeElement) { return true; }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) { return true; }
      } else if (field.tagName === "SELECT") {
        var initial = 0;
        for (var j = 0; j < field.options.length; j++) { if (field.options[j].defaultSelected) { initial = j; } }
        if (field.options.length && field.selectedIndex !== initial) { return true; }
      } else if (field.value !== field.defaultValue) { return true; }
    }
    return false;
  }

  function follow(element) {
    var url = element.getAttribute("data-live");

    function schedule() { window.setTimeout(refresh, PERIOD_MS); }

    function refresh() {
      fetch(url, { credentials: "same-origin", redirect: "manual" })
        .then(function (response) {
          if (response.type === "opaqueredirect" || response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null || html === undefined) { schedule(); return; }
          // compared as the browser serialises both, so an unchanged fragment never replaces the page's
          var fresh = document.createElement("template");  // parses any fragment, table rows included
          fresh.innerHTML = html;
          if (fresh.innerHTML.trim() !== element.innerHTML.trim()) {  // the page's include is indented
            if (editing(element)) { schedule(); return; }  // never wipe what is being typed: later
            var focused = element.contains(document.activeElement) ? document.activeElement.id : null;
            element.innerHTML = html;
            if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
          }
          if (html.indexOf('data-final="true"') === -1) { schedule(); }
        })
        .catch(schedule);
    }

    if (element.innerHTML.indexOf('data-final="true"') === -1) { schedule(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var elements = document.querySelectorAll("[data-live]");
    for (var i = 0; i < elements.length; i++) { follow(elements[i]); }
  });
})();
