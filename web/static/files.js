// 佐证材料: upload files to /api/v1/files with a progress bar, list the ones done (name, size).
// Used by the task page (form-js filepicker fields, rendered here instead) and the item page.
(function () {
  "use strict";

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + " 字节";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  // XMLHttpRequest, not fetch: only it reports upload progress, which a 20 MB scan needs.
  function upload(file, itemId, onProgress) {
    return new Promise(function (resolve) {
      var body = new FormData();
      body.append("file", file, file.name);
      if (itemId) body.append("item_id", String(itemId));
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/files");
      xhr.setRequestHeader("X-CSRF-Token", window.duban.csrf);
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", function () {
        var answer;
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
        resolve({ status: xhr.status, body: answer });
      });
      xhr.addEventListener("error", function () { resolve({ status: 0, body: { message: "网络错误，上传失败" } }); });
      xhr.send(body);
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function link(file) {
    var a = element("a", "download", file.name || ("附件 " + file.id));
    a.href = "/api/v1/files/" + file.id;
    a.setAttribute("download", "");
    return a;
  }

  // A picker: a file input; each chosen file uploads at once, its bar filling; done files stay listed.
  // options: { label, itemId (attach to it at once), readOnly, files (already held, described), ids
  // (already held, by id), namesFrom (the item whose list names them), onDone(file) }.
  function picker(host, options) {
    var done = [], uploading = 0;
    var box = element("div", "file-picker");
    var label = element("div", "file-picker-label", options.label || "佐证材料");
    var input = element("input");
    input.type = "file";
    input.multiple = true;
    var list = element("ul", "file-list");
    box.appendChild(label);
    if (!options.readOnly) {
      // The browser's own file button speaks the browser's language; this one speaks Chinese.
      input.className = "file-input";
      input.setAttribute("aria-label", options.label || "佐证材料");
      var choose = element("button", "file-choose", "选择文件…");
      choose.type = "button";
      choose.addEventListener("click", function () { input.click(); });
      box.appendChild(input);
      box.appendChild(choose);
      box.appendChild(element("small", "file-hint", "可多选；PDF、OFD、图片、Word/Excel/PowerPoint、文本或 zip"));
    }
    box.appendChild(list);
    host.appendChild(box);

    (options.files || []).forEach(function (file) { list.appendChild(add(file)); });
    (options.ids || []).forEach(function (id) { list.appendChild(add({ id: id })); });
    if ((options.ids || []).length && options.namesFrom) named(options.namesFrom);

    // Files already held are known by id: their names and sizes come from the item's list.
    function named(itemId) {
      fetch("/api/v1/items/" + itemId + "/files", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (known) {
          known.forEach(function (file) {
            var row = list.querySelector('li[data-file-id="' + file.id + '"]');
            if (!row) return;
            row.querySelector("a").textContent = file.name;
            row.insertBefore(element("small", "file-size", sizeText(file.size)), row.querySelector("a").nextSibling);
          });
        })
        .catch(function () {});
    }

    function add(file) {
      done.push(file.id);
      var row = element("li", "file-done");
      row.dataset.fileId = file.id;
      row.appendChild(link(file));
      if (file.size !== undefined) row.appendChild(element("small", "file-size", sizeText(file.size)));
      if (!options.readOnly) {
        var remove = element("button", "file-remove", "移除");
        remove.type = "button";
        remove.addEventListener("click", function () {
          done = done.filter(function (id) { return id !== file.id; });
          row.remove();
        });
        row.appendChild(remove);
      }
      return row;
    }

    function send(file) {
      var row = element("li", "file-uploading");
      row.appendChild(element("span", "file-name", file.name));
      row.appendChild(element("small", "file-size", sizeText(file.size)));
      var bar = element("progress");
      bar.max = 100;
      bar.value = 0;
      row.appendChild(bar);
      list.appendChild(row);
      uploading += 1;
      upload(file, options.itemId, function (part) { bar.value = Math.round(part * 100); }).then(function (answer) {
        uploading -= 1;
        if (answer.status === 201) {
          bar.value = 100;
          var doneRow = add(answer.body);
          doneRow.appendChild(bar);
          list.replaceChild(doneRow, row);
          if (options.onDone) options.onDone(answer.body);
        } else {
          row.className = "file-failed";
          bar.remove();
          row.appendChild(element("span", "error", answer.body.message || ("上传失败（" + answer.status + "）")));
        }
      });
    }

    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, send);
      input.value = "";
    });
    return {
      ids: function () { return done.slice(); },
      busy: function () { return uploading > 0; }
    };
  }

  // form-js renders no upload we can follow: take the filepicker fields out of a schema (to render
  // them with `picker`), keeping the rest for form-js. Returns { schema, fields }.
  function take(schema) {
    var fields = [];
    function strip(components) {
      return (components || []).filter(function (c) {
        if (c && c.type === "filepicker") { fields.push(c); return false; }
        if (c && Array.isArray(c.components)) c.components = strip(c.components);
        return true;
      });
    }
    if (!schema) return { schema: schema, fields: fields };
    var copy = JSON.parse(JSON.stringify(schema));
    copy.components = strip(copy.components);
    return { schema: copy, fields: fields };
  }

  window.dubanFiles = { upload: upload, picker: picker, take: take, sizeText: sizeText };
})();
