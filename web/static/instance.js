// The instance monitor: the diagram with the path taken, current tasks and waiting timers marked
// (from the server's projections, not a re-parse), and the administrators' operations.
(function () {
  "use strict";
  var xml = JSON.parse(document.getElementById("diagram-xml").textContent);
  var marks = JSON.parse(document.getElementById("diagram-highlight").textContent);
  var viewer = new BpmnJS({ container: "#diagram" });

  viewer.importXML(xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    function mark(ids, css) {
      ids.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, css); });
    }
    mark(marks.passed, "passed");
    // A flow was taken when both its ends were passed (or it led into a current task).
    var passed = {};
    marks.passed.forEach(function (id) { passed[id] = true; });
    marks.current.concat(marks.waiting).forEach(function (id) { passed[id] = passed[id] || "reached"; });
    registry.filter(function (e) { return e.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      if (flow.source && flow.target && passed[flow.source.id] === true && passed[flow.target.id]) {
        canvas.addMarker(flow.id, "passed");
      }
    });
    mark(marks.current, "current");
    mark(marks.waiting, "waiting");
    document.getElementById("diagram").dataset.ready = "true";
  }).catch(function (error) {
    document.getElementById("diagram").textContent = "流程图无法显示：" + error.message;
  });

  var box = document.querySelector(".operations");
  if (!box) return;
  var id = box.dataset.instance;
  var message = document.getElementById("op-message");
  var LABELS = { suspend: "挂起", resume: "恢复", retry: "重试", terminate: "终止", migrate: "迁移" };

  function call(op, body) {
    var path = "/api/v1/instances/" + id + "/" + (op === "migrate" ? "migration" : op);
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": window.duban.csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) { return r.json().then(function (json) { return { status: r.status, body: json }; }); });
  }

  // What each operation does, said before it is done (confirm.js); terminating asks for a reason.
  var ASK = {
    suspend: { message: "挂起后流程暂停：定时器不再触发，任务不能办理，直到恢复。", ok: "确认挂起" },
    resume: { message: "恢复后流程继续运行，到期的定时器随即触发。", ok: "确认恢复" },
    retry: { message: "重新执行出错的步骤。", ok: "确认重试" },
    terminate: { message: "终止后流程结束，所有未办任务和定时器随即撤销，不能恢复。", ok: "确认终止", danger: true,
                 reason: "终止原因" },
    migrate: { message: "", ok: "确认迁移" }
  };
  var DONE = { suspend: "已挂起流程实例", resume: "已恢复流程实例", retry: "已重试出错的步骤",
               terminate: "已终止流程实例", migrate: "已迁移到新版本" };

  box.addEventListener("click", function (event) {
    var op = event.target.dataset && event.target.dataset.op;
    if (!op) return;
    var ask = Object.assign({ title: LABELS[op] + "流程实例 #" + id }, ASK[op]);
    if (op === "migrate") {
      ask.message = "将流程实例从 v" + box.dataset.version + " 迁移到 v" + box.dataset.latest +
        "：按新版本的流程图继续运行，不能退回旧版本。";
    }
    window.dubanConfirm.ask(ask).then(function (answer) {
      if (!answer) return;
      var body = {};
      if (op === "terminate") body.reason = answer.reason;
      if (op === "migrate") body.version = Number(box.dataset.latest);
      call(op, body).then(function (result) {
        if (result.status === 200) {
          window.dubanToast.next(DONE[op]);
          window.location.reload();
        } else {
          message.textContent = LABELS[op] + "失败：" + (result.body.message || result.status);
          message.hidden = false;
        }
      });
    });
  });
})();
