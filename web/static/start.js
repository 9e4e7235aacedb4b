// The 发起 page: render the start event's form-js schema, start the process through the API, show the
// server's field errors inline, then go to the new item (or the inbox).
(function () {
  "use strict";
  var container = document.getElementById("form");
  if (!container) return;
  var schema = JSON.parse(document.getElementById("form-schema").textContent);
  var key = container.dataset.key;
  var errorBox = document.getElementById("errors");
  var form = window.dubanForms.create(container);

  function say(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }


  // 佐证材料 (e.g. a 批示 scan at 立项): filepicker fields upload through files.js, with progress.
  var taken = window.dubanFiles.take(schema);
  var pickers = taken.fields.map(function (field) {
    return { key: field.key, picker: window.dubanFiles.picker(document.getElementById("files"), { label: field.label }) };
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
    pickers.forEach(function (p) { submitted[p.key] = p.picker.ids(); });
    duplicateChecked(submitted).then(function (go) { if (go) send(submitted); });
  }

  // 重复提醒: a process that registers an item asks first whether an open item has a close title; the
  // starter sees those items (with links) and may still go on.
  function duplicateChecked(submitted) {
    var title = typeof submitted.title === "string" ? submitted.title.trim() : "";
    var box = document.getElementById("duplicates");
    box.hidden = true;
    if (!container.dataset.item || !title) return Promise.resolve(true);
    return fetch("/api/v1/items/similar?title=" + encodeURIComponent(title), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .catch(function () { return []; })
      .then(function (similar) {
        if (!similar.length) return true;
        var list = box.querySelector("ul");
        list.innerHTML = "";
        similar.forEach(function (item) {
          var line = document.createElement("li");
          var link = document.createElement("a");
          link.href = item.url;
          link.target = "_blank";
          link.rel = "noopener";
          link.textContent = "《" + item.title + "》";
          line.appendChild(document.createTextNode(item.message.split("《")[0]));
          line.appendChild(link);
          line.appendChild(document.createTextNode("（" + item.status_name + "）"));
          list.appendChild(line);
        });
        box.hidden = false;
        return window.dubanConfirm.ask({
          title: "可能重复", ok: "确认不是重复，继续发起",
          message: similar.map(function (item) { return item.message; }).join("；") + "。请核对；确属不同事项可继续发起。"
        }).then(function (answer) { return !!answer; });
      });
  }

  function send(submitted) {
    var button = document.getElementById("submit");
    button.disabled = true;
    fetch("/api/v1/processes/" + encodeURIComponent(key) + "/start", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": window.duban.csrf },
      body: JSON.stringify({ data: submitted })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { status: r.status, body: body }; });
    }).then(function (answer) {
      button.disabled = false;
      if (answer.status === 201) {
        window.location.href = answer.body.item_id ? "/items/" + answer.body.item_id + "?created=1" : "/tasks?started=" + answer.body.instance_id;
        return;
      }
      say(answer.body.message || ("发起失败（" + answer.status + "）"));
      if (answer.body.details && answer.body.details.length) window.duban.showFieldErrors(form, answer.body.details);
    });
  }

  var schemaToShow = taken.schema || { type: "default", components: [{ type: "text", text: "此流程无需填写开始表单，直接发起即可。" }] };
  form.importSchema(schemaToShow, {}).catch(function (error) { say("表单无法显示：" + error.message); });
  document.getElementById("submit").addEventListener("click", submit);
})();
