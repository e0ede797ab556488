// The export job's page: while the job is not finished, fetch the page again every few seconds
// and put its new status block in place (progress, then the download link). Without JavaScript
// the page's "Update now" link does the same.
(function () {
  "use strict";
  var block = document.getElementById("export-status");
  if (!block || block.dataset.finished === "true") {
    return;
  }
  var timer = window.setInterval(function () {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("export-status");
        if (!fresh) { return; }
        block.replaceChildren.apply(block, Array.prototype.slice.call(fresh.childNodes));
        if (fresh.dataset.finished === "true") {
          block.dataset.finished = "true";
          window.clearInterval(timer);
        }
      })
      .catch(function () { /* a failed poll: the next one tries again */ });
  }, 3000);
})();
