// drwave console: refresh every [data-live] element from its fragment URL once a second, without a
// full reload. A fragment that carries data-final="true" is the last one (the execution has ended).
// Nothing else: forms are plain POSTs, so the console works without this script too.
(function () {
  "use strict";
  var PERIOD_MS = 1000;

  function follow(element) {
    var url = element.getAttribute("data-live");
    var last = element.innerHTML;
    var timer = null;

    function schedule() { timer = window.setTimeout(refresh, PERIOD_MS); }

    function refresh() {
      fetch(url, { credentials: "same-origin", redirect: "manual" })
        .then(function (response) {
          if (response.type === "opaqueredirect" || response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null || html === undefined) { schedule(); return; }
          if (html !== last) {
            var focused = element.contains(document.activeElement) ? document.activeElement.id : null;
            element.innerHTML = html;
            last = html;
            if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
          }
          if (html.indexOf('data-final="true"') === -1) { schedule(); }
        })
        .catch(schedule);
    }

    if (last.indexOf('data-final="true"') === -1) { schedule(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var elements = document.querySelectorAll("[data-live]");
    for (var i = 0; i < elements.length; i++) { follow(elements[i]); }
  });
})();
