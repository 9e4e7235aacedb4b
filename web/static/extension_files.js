// 延期申请 on the item page: 佐证材料 upload with progress as they are chosen; the form sends their ids.
(function () {
  "use strict";
  var host = document.getElementById("extension-files");
  if (!host) return;
  var form = host.closest("form");
  var chosen = JSON.parse(host.querySelector("script").textContent || "[]");  // kept from a refused try
  var picker = window.dubanFiles.picker(host, { label: "佐证材料（可选：会商纪要、情况说明等）", files: chosen });
  form.addEventListener("submit", function (event) {
    if (picker.busy()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      window.alert("文件仍在上传，请等上传完成后再提交。");
    }
  });
  // `formdata`, not `submit`: it also fires when a script sends the form (after a confirmation).
  form.addEventListener("formdata", function (event) {
    picker.ids().forEach(function (id) { event.formData.append("evidence", String(id)); });
  });
})();
