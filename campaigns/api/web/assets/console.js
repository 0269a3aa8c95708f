// dispatch console: the one script of the staff pages. Every page works without it; it only
//  - refreshes each element marked data-live="URL" every 2 s with the HTML fragment at URL, until a
//    fragment says it is final (it holds an element with data-final), and while the tab is visible;
//  - fills each element marked data-load="URL" once with the fragment at URL (a slow figure, such as a
//    segment's size, that the page does not wait for), and then clears its aria-busy.
// Fragments come from the same site (same-origin fetch with the session cookie) and are HTML that the
// server's templates escaped.
(function () {
  "use strict";
  var every = 2000;

  function fetchInto(el, url, done, failed) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.text();
      })
      .then(function (html) {
        el.innerHTML = html;
        el.setAttribute("data-updated", new Date().toISOString());
        done(el.querySelector("[data-final]") !== null);
      })
      .catch(function () {
        if (failed) { failed(); } else { done(false); }
      });
  }

  function live(el) {
    var url = el.getAttribute("data-live");
    function tick() {
      if (document.hidden) { setTimeout(tick, every); return; }
      fetchInto(el, url, function (final) {
        if (!final) { setTimeout(tick, every); }
      });
    }
    setTimeout(tick, every);
  }

  // A figure that cannot be had says so (data-failed), rather than "counting…" for ever.
  function load(el) {
    fetchInto(el, el.getAttribute("data-load"), function () {
      el.setAttribute("aria-busy", "false");
    }, function () {
      el.textContent = el.getAttribute("data-failed") || "–";
      el.setAttribute("aria-busy", "false");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), live);
    Array.prototype.forEach.call(document.querySelectorAll("[data-load]"), load);
  });
})();
