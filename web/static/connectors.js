// 连接器: the new connector's form shows only the fields of the chosen kind (all of them without script).
(function () {
  "use strict";
  document.querySelectorAll("[data-kind-form]").forEach(function (form) {
    var select = form.querySelector("[data-kind-select]");
    function show() {
      form.querySelectorAll(".kind-fields").forEach(function (set) {
        var mine = set.getAttribute("data-kinds").split(" ").indexOf(select.value) >= 0;
        set.hidden = !mine;
        set.disabled = !mine;
      });
    }
    select.addEventListener("change", show);
    show();
  });
})();
