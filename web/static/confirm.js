// 确认与提示: one accessible <dialog> before irreversible actions, and a toast after success that
// survives the redirect. Loaded on every signed-in page (base.html).
//
// Declarative use: put data-confirm="what will happen" on a <form> (asked on submit) or on a
// button or link (asked on click). Optional: data-confirm-title, data-confirm-ok (the confirming
// button's words, default 确定), data-confirm-danger (a red confirming button), data-confirm-reason
// (label of a required reason; its text goes into the form's field data-confirm-reason-name,
// default "reason", created if missing) and data-toast (shown on the page that answers, unless that
// page shows a refusal; a view can flash() instead, which base.html shows as a toast).
// From script: dubanConfirm.ask({title, message, ok, danger, reason}) resolves to false, or to
// {reason}; dubanToast.show(text) shows one now, dubanToast.next(text) after the next page load.
(function () {
  "use strict";
  var NEXT_KEY = "duban.toast";
  var dialog = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.id = "confirm-dialog";
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "confirm-title");
    dialog.setAttribute("aria-describedby", "confirm-message");
    dialog.innerHTML =
      // novalidate: the reason is checked below and the refusal said in Chinese, not in a browser tooltip
      '<form method="dialog" novalidate>' +
      '<h2 id="confirm-title"></h2><p id="confirm-message"></p>' +
      '<label id="confirm-reason-label" hidden><span></span><textarea id="confirm-reason" rows="3" maxlength="1000"></textarea></label>' +
      '<p id="confirm-problem" class="field-error" role="alert" hidden></p>' +
      '<div class="actions"><button type="button" value="cancel" id="confirm-cancel">取消</button>' +
      '<button type="submit" value="ok" id="confirm-ok" class="primary"></button></div></form>';
    document.body.appendChild(dialog);
    return dialog;
  }

  function ask(options) {
    var box = dialog || build();
    var reasonLabel = box.querySelector("#confirm-reason-label");
    var reason = box.querySelector("#confirm-reason");
    var problem = box.querySelector("#confirm-problem");
    var ok = box.querySelector("#confirm-ok");
    box.querySelector("#confirm-title").textContent = options.title || "请确认";
    box.querySelector("#confirm-message").textContent = options.message || "";
    ok.textContent = options.ok || "确定";
    ok.className = options.danger ? "danger" : "primary";
    reasonLabel.hidden = !options.reason;
    reasonLabel.querySelector("span").textContent = options.reason || "";
    reason.value = "";
    reason.required = !!options.reason;
    reason.removeAttribute("aria-invalid");
    problem.hidden = true;
    return new Promise(function (resolve) {
      function finish(answer) {
        box.removeEventListener("submit", onSubmit);
        box.removeEventListener("cancel", onCancel);
        box.querySelector("#confirm-cancel").onclick = null;
        reason.oninput = null;
        if (box.open) box.close();
        resolve(answer);
      }
      function onSubmit(event) {
        event.preventDefault();
        if (options.reason && !reason.value.trim()) {
          problem.textContent = "请填写" + options.reason;
          problem.hidden = false;
          reason.setAttribute("aria-invalid", "true");
          reason.focus();
          return;
        }
        finish({ reason: reason.value.trim() });
      }
      function onCancel(event) { event.preventDefault(); finish(false); }
      // The refusal goes as soon as a reason is typed: it must not stand under a filled field.
      reason.oninput = function () {
        if (!reason.value.trim()) return;
        problem.hidden = true;
        reason.removeAttribute("aria-invalid");
      };
      box.addEventListener("submit", onSubmit);
      box.addEventListener("cancel", onCancel);  // Esc
      box.querySelector("#confirm-cancel").onclick = function () { finish(false); };
      box.showModal();
      (options.reason ? reason : box.querySelector("#confirm-cancel")).focus();
    });
  }

  function optionsOf(el) {
    return { title: el.dataset.confirmTitle, message: el.dataset.confirm, ok: el.dataset.confirmOk,
             danger: el.hasAttribute("data-confirm-danger"), reason: el.dataset.confirmReason };
  }

  function keepReason(form, el, reason) {
    if (!el.dataset.confirmReason || !form) return;
    var name = el.dataset.confirmReasonName || "reason";
    var field = form.elements[name];
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      form.appendChild(field);
    }
    field.value = reason;
  }

  // Forms: asked on submit; once confirmed the same submission goes on, with the same submitter.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var el = submitter && submitter.hasAttribute("data-confirm") ? submitter
      : (form.hasAttribute("data-confirm") ? form : null);
    if (!el || form.method === "dialog") return;
    if (form.dataset.confirmed === "yes") { delete form.dataset.confirmed; return; }
    event.preventDefault();
    ask(optionsOf(el)).then(function (answer) {
      if (!answer) return;
      keepReason(form, el, answer.reason);
      if (el.dataset.toast) next(el.dataset.toast);
      form.dataset.confirmed = "yes";
      if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
    });
  }, true);

  // Links and buttons outside a form.
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("a[data-confirm], button[data-confirm]");
    if (!el || (el.form && el.type === "submit")) return;
    if (el.dataset.confirmed === "yes") { delete el.dataset.confirmed; return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    ask(optionsOf(el)).then(function (answer) {
      if (!answer) return;
      if (el.dataset.toast) next(el.dataset.toast);
      el.dataset.confirmed = "yes";
      el.click();
    });
  }, true);

  function region() {
    var box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    return box;
  }

  function show(message) {
    var toast = document.createElement("p");
    toast.className = "toast";
    toast.textContent = message;
    region().appendChild(toast);
    setTimeout(function () { toast.classList.add("leaving"); }, 6000);
    setTimeout(function () { toast.remove(); }, 6600);
  }

  function next(message) {
    try { sessionStorage.setItem(NEXT_KEY, message); } catch (e) { /* private mode: no toast */ }
  }

  // Server-side toasts (Flask flash) are already in #toasts; fade them like the others.
  Array.prototype.forEach.call(document.querySelectorAll("#toasts .toast"), function (toast) {
    setTimeout(function () { toast.classList.add("leaving"); }, 6000);
  });
  try {
    var waiting = sessionStorage.getItem(NEXT_KEY);
    sessionStorage.removeItem(NEXT_KEY);
    // A data-toast is stored before its form is sent: a refusal page (an alert on it) says why instead.
    if (waiting && !document.querySelector(".error[role=alert], .field-error[role=alert]")) show(waiting);
  } catch (e) { /* private mode */ }

  window.dubanConfirm = { ask: ask };
  window.dubanToast = { show: show, next: next };
})();
