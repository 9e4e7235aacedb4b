// The task page: render the form-js schema, submit to the API, show the server's field errors inline.
(function () {
  "use strict";
  var container = document.getElementById("form");
  var schema = JSON.parse(document.getElementById("form-schema").textContent);
  var data = JSON.parse(document.getElementById("form-data").textContent);
  var taskId = container.dataset.task;
  var canWork = container.dataset.canWork === "true";
  var errorBox = document.getElementById("errors");
  var form = null;

  function say(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": window.duban.csrf },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) { return { status: r.status, body: json }; });
    });
  }


  // 佐证材料: filepicker fields are rendered by files.js (upload with progress), not by form-js.
  var taken = window.dubanFiles.take(schema);
  // A read-only one shows files sent earlier (the 延期申请's, to its reviewer) and is not submitted.
  var pickers = taken.fields.map(function (field) {
    var host = document.getElementById("files");
    return { key: field.key, readOnly: !!field.readonly, picker: window.dubanFiles.picker(host, {
      label: field.label, readOnly: !canWork || !!field.readonly, ids: (data || {})[field.key],
      namesFrom: host.dataset.item }) };
  });

  function submit() {
    var result = form.submit();
    if (Object.keys(result.errors).length) {
      say("请检查标红的字段。");
      return;
    }
    if (pickers.some(function (p) { return p.picker.busy(); })) {
      say("文件仍在上传，请等上传完成后再提交。");
      return;
    }
    say("");
    var submitted = window.dubanForms.fromForm(schema, result.data);
    pickers.forEach(function (p) { if (!p.readOnly) submitted[p.key] = p.picker.ids(); });
    var name = container.dataset.name;
    // Submitting moves the process on: nothing submitted can be taken back.
    window.dubanConfirm.ask({
      title: "提交“" + name + "”", ok: "确认提交",
      message: "提交后本任务即办结，流程转入下一环节，所填内容不能再修改。"
    }).then(function (answer) { if (answer) send(submitted, name); });
  }

  function send(submitted, name) {
    document.getElementById("submit").disabled = true;
    post("/api/v1/tasks/" + taskId + "/complete", { data: submitted }).then(function (answer) {
      document.getElementById("submit").disabled = false;
      if (answer.status === 200) {
        window.dubanToast.next("已提交：" + name);
        window.location.href = "/tasks?done=" + encodeURIComponent(taskId);
        return;
      }
      say(answer.body.message || ("提交失败（" + answer.status + "）"));
      if (answer.body.details && answer.body.details.length) window.duban.showFieldErrors(form, answer.body.details);
    });
  }

  function claim() {
    post("/api/v1/tasks/" + taskId + "/claim").then(function (answer) {
      if (answer.status === 200) {
        document.getElementById("assignee").textContent = answer.body.assignee_name || answer.body.assignee;
        document.getElementById("claim").remove();
      } else {
        say(answer.body.message || "领取失败");
      }
    });
  }

  var schemaToShow = taken.schema || { type: "default", components: [{ type: "text", text: "此任务无需填写表单，直接提交即可。" }] };
  form = window.dubanForms.create(container);
  form.importSchema(schemaToShow, window.dubanForms.toForm(schema, data)).then(function () {
    if (!canWork) form.setProperty("readOnly", true);
  }).catch(function (error) { say("表单无法显示：" + error.message); });
  var submitButton = document.getElementById("submit");
  if (submitButton) submitButton.addEventListener("click", submit);
  var claimButton = document.getElementById("claim");
  if (claimButton) claimButton.addEventListener("click", claim);
})();
