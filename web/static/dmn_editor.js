// The decision table page: Duban's dmn-js bundle (window.DubanDmn, in Chinese) on the decision's DMN,
// deployed as a .dmn file through POST /api/v1/definitions (the same checks as `duban deploy`: every
// cell compiled by the sandbox); the processes using the decision get new versions with it.
(function () {
  "use strict";
  var openedKey = JSON.parse(document.getElementById("dmn-key").textContent);
  var xml = JSON.parse(document.getElementById("dmn-xml").textContent);
  var problems = document.getElementById("problems");
  var container = document.getElementById("dmn-canvas");
  var modeler = DubanDmn.create({ container: container });

  function blank(id) {
    return '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="' + id + '_definitions" ' +
      'name="新决策表" namespace="urn:duban:dmn:1">' +
      '<decision id="' + id + '" name="新决策表"><decisionTable id="' + id + '_table" hitPolicy="FIRST">' +
      '<input id="' + id + '_in" label="输入"><inputExpression id="' + id + '_ie" typeRef="string"><text>category</text>' +
      '</inputExpression></input><output id="' + id + '_out" label="结果" name="result" typeRef="string"/>' +
      '<rule id="' + id + '_r1"><inputEntry id="' + id + '_r1i"><text>"normal"</text></inputEntry>' +
      '<outputEntry id="' + id + '_r1o"><text>"一般"</text></outputEntry></rule>' +
      '</decisionTable></decision></definitions>';
  }

  function show(message, items, kind) {
    problems.hidden = false;
    problems.className = "problems " + (kind || "");
    problems.innerHTML = "";
    var head = document.createElement("p");
    head.textContent = message;
    problems.appendChild(head);
    if (items && items.length) {
      var list = document.createElement("ul");
      items.forEach(function (d) {
        var li = document.createElement("li");
        li.textContent = (d.element ? "[" + d.element + "] " : "") + d.message;
        list.appendChild(li);
      });
      problems.appendChild(list);
    }
  }

  // The decision being edited: its id is what business rule tasks name, and the file's name.
  function decision() {
    var drgs = modeler.getDefinitions().drgElement || [];
    return drgs.filter(function (e) { return e.$type === "dmn:Decision"; })[0];
  }

  function currentKey() { var d = decision(); return d ? d.id : openedKey; }

  function showName() {
    var d = decision();
    if (d) document.getElementById("decision-name").textContent = (d.name || "（未命名）") + "（" + d.id + "）";
  }

  modeler.importXML(xml || blank("Decision_" + Math.random().toString(36).slice(2, 9))).then(function () {
    return DubanDmn.openTable(modeler);
  }).then(showName).catch(function (error) {
    show("无法打开决策表：" + error.message, [], "bad");
  });

  function saved() {
    return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  document.getElementById("deploy-decision").addEventListener("click", function () {
    saved().then(function (text) {
      var data = new FormData();
      data.append("file", new Blob([text], { type: "application/xml" }), currentKey() + ".dmn");
      return fetch("/api/v1/definitions", { method: "POST", credentials: "same-origin", body: data,
                                            headers: { "X-CSRF-Token": window.duban.csrf } });
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(function (answer) {
      if (answer.status !== 201) {
        show("部署未通过：" + (answer.body.message || answer.status), answer.body.details || [], "bad");
        return;
      }
      var table = (answer.body.decisions || [])[0] || answer.body;
      var followed = (answer.body.processes || []).map(function (p) { return p.key + " v" + p.version; });
      var message = table.created ? "已部署决策表 " + table.key + " v" + table.version
                                  : "内容未变化，仍为 v" + table.version;
      if (followed.length) message += "；使用它的流程已部署新版本：" + followed.join("、");
      show(message, [], "good");
      if (table.created && table.key !== openedKey) {
        window.setTimeout(function () {
          window.location.href = "/modeler/decisions?key=" + encodeURIComponent(table.key);
        }, 800);
      }
    }).catch(function (error) { show("部署失败：" + error.message, [], "bad"); });
  });

  document.getElementById("download-decision").addEventListener("click", function () {
    saved().then(function (text) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "application/xml" }));
      link.download = currentKey() + ".dmn";
      link.click();
      URL.revokeObjectURL(link.href);
    });
  });
})();
