// The item page: attach 佐证材料 to the item; the page shows the list again once every upload is done.
(function () {
  "use strict";
  var host = document.getElementById("attach");
  if (!host) return;
  var picker = window.dubanFiles.picker(host, {
    label: "添加佐证材料", itemId: host.dataset.item,
    onDone: function () { if (!picker.busy()) window.location.reload(); }
  });
})();
