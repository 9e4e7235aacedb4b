// Every signed-in page: the unread badge and the inbox refresh themselves without a reload.
(function () {
  "use strict";
  var REFRESH_MS = 30000;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  // Server field errors onto a form-js form: it keeps errors by field id, the server names keys.
  function showFieldErrors(form, details) {
    var errors = {};
    var fields = form.get("formFieldRegistry").getAll();
    details.forEach(function (d) {
      fields.forEach(function (field) {
        if (field.key === d.field) errors[field.id] = [d.message];
      });
    });
    form._setState({ errors: errors });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // An ISO 8601 time from the API as people read it, in Beijing time whatever the browser's zone:
  // "2026年12月3日 17:30"; a bare date "2026-12-03" as "2026年12月3日". Anything else is returned as is.
  function when(iso) {
    if (typeof iso !== "string") return iso;
    var day = /^(\d{4})-(\d\d)-(\d\d)$/.exec(iso);
    if (day) return day[1] + "年" + Number(day[2]) + "月" + Number(day[3]) + "日";
    var at = new Date(iso);
    if (!/^\d{4}-\d\d-\d\dT/.test(iso) || isNaN(at.getTime())) return iso;
    at = new Date(at.getTime() + 8 * 3600 * 1000);  // China keeps UTC+8 all year
    return at.getUTCFullYear() + "年" + (at.getUTCMonth() + 1) + "月" + at.getUTCDate() + "日 " +
      pad(at.getUTCHours()) + ":" + pad(at.getUTCMinutes());
  }

  window.duban = { csrf: csrf, showFieldErrors: showFieldErrors, when: when };

  function refreshBadge() {
    var badge = document.getElementById("unread");
    if (!badge) return;
    fetch(badge.dataset.countUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        badge.textContent = body.count;
        badge.hidden = body.count === 0;
      })
      .catch(function () {});
  }

  function refreshInbox() {
    var table = document.getElementById("inbox");
    if (!table) return;
    fetch(table.dataset.refresh, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        table.querySelector("tbody").innerHTML = html;
        var total = document.getElementById("task-total");
        if (total) total.textContent = table.querySelectorAll("tbody tr[data-task]").length;
      })
      .catch(function () {});
  }

  window.dubanRefresh = function () { refreshBadge(); refreshInbox(); };
  refreshBadge();
  setInterval(window.dubanRefresh, REFRESH_MS);
})();
