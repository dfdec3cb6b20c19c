// A broadcast's page: poll its progress (JSON) every 2 s and update the bar and the figures.
// The URL and the status the page was rendered with come from data-* attributes (no inline script).
(function () {
  "use strict";
  var box = document.getElementById("broadcast-progress");
  if (!box) { return; }
  var url = box.dataset.progressUrl;
  var shownStatus = box.dataset.status;
  var bar = document.getElementById("progress-bar");
  var ENDED = ["done", "cancelled"];

  function show(progress) {
    bar.style.width = progress.percent + "%";
    bar.textContent = progress.percent + "%";
    bar.parentElement.setAttribute("aria-valuenow", progress.percent);
    box.querySelectorAll("[data-field]").forEach(function (cell) {
      cell.textContent = progress[cell.dataset.field];
    });
    if (progress.status !== shownStatus) {
      // The status changed (done, or paused from elsewhere): the page's buttons follow it.
      window.location.reload();
      return false;
    }
    return ENDED.indexOf(progress.status) < 0;
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (progress === null || show(progress)) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  if (ENDED.indexOf(shownStatus) < 0) { window.setTimeout(poll, 1000); }
}());
