// The dashboard's charts (ECharts, served from /static/vendor): units, statuses, the monthly trend.
// The figures come from the page's JSON block; the tables beside them work without this script.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var COLORS = { total: "#5b636b", open: "#0b57d0", overdue: "#cf222e", completed: "#1a7f37",
                 registered: "#0b57d0", closed: "#1a7f37" };
  var STATUS_COLORS = { drafting: "#8c959f", approving: "#bf8700", assigning: "#d4a72c", in_progress: "#0b57d0",
                        signoff: "#8250df", feedback: "#1f6feb", closed: "#1a7f37", rejected: "#6e7781",
                        terminated: "#cf222e" };

  if (typeof window.echarts === "undefined") {
    document.getElementById("chart-missing").hidden = false;
    return;
  }

  function narrow() { return window.innerWidth < 720; }

  function empty(text) {
    return { title: { text: text, left: "center", top: "middle", textStyle: { color: "#5b636b", fontSize: 14,
                                                                                fontWeight: "normal" } } };
  }

  function bar(key, name) {
    return { name: name, type: "bar", barMaxWidth: 28, itemStyle: { color: COLORS[key] },
             data: data.units.map(function (u) { return u[key]; }) };
  }

  function unitsOption() {
    if (!data.units.length) return empty("暂无承办任务");
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: data.units.map(function (u) { return u.unit_name; }),
               axisLabel: { interval: 0, rotate: narrow() && data.units.length > 3 ? 40 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [bar("total", "承办"), bar("open", "在办"), bar("overdue", "逾期"), bar("completed", "办结")]
    };
  }

  function statusOption() {
    if (!data.statuses.length) return empty("暂无事项");
    return {
      tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        name: "事项状态", type: "pie", radius: ["42%", "68%"], center: ["50%", "45%"], avoidLabelOverlap: true,
        label: { formatter: "{b}\n{c}" },
        data: data.statuses.map(function (s) {
          return { name: s.name, value: s.count, itemStyle: { color: STATUS_COLORS[s.status] } };
        })
      }]
    };
  }

  function line(key, name, color) {
    return { name: name, type: "line", symbolSize: 6, itemStyle: { color: color },
             data: data.trend.map(function (m) { return m[key]; }) };
  }

  function trendOption() {
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", boundaryGap: false, data: data.trend.map(function (m) { return m.month; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [line("registered", "立项", COLORS.registered), line("closed", "办结", COLORS.closed),
               line("overdue", "月末逾期", COLORS.overdue)]
    };
  }

  // The JSON block is marked once every chart has finished drawing (animations included):
  // screenshots and tests wait for it.
  var drawn = 0;
  var specs = [["chart-units", unitsOption], ["chart-status", statusOption], ["chart-trend", trendOption]];
  var charts = specs.map(function (pair) {
    var chart = window.echarts.init(document.getElementById(pair[0]), null, { renderer: "canvas" });
    var first = true;
    chart.on("finished", function () {
      if (!first) return;
      first = false;
      drawn += 1;
      if (drawn === specs.length) document.getElementById("dashboard-data").dataset.drawn = "true";
    });
    chart.setOption(pair[1]());
    return { chart: chart, option: pair[1] };
  });

  var pending = null;
  function resize() {
    // Labels depend on the width (rotated unit names on phones): set the options again, then resize.
    clearTimeout(pending);
    pending = setTimeout(function () {
      charts.forEach(function (c) { c.chart.setOption(c.option()); c.chart.resize(); });
    }, 100);
  }
  window.addEventListener("resize", resize);
  window.addEventListener("orientationchange", resize);
})();

// 省长信箱, 人大建议, 政协提案: reply, on-time and satisfaction rates per source (the table beside it has
// the counts). Its own JSON block, marked `data-drawn` once the chart has finished drawing.
(function () {
  "use strict";
  var block = document.getElementById("sources-data");
  var target = document.getElementById("chart-sources");
  if (!block || !target || typeof window.echarts === "undefined") return;
  var sources = JSON.parse(block.textContent);
  function percent(value) { return value === null ? null : Math.round(value * 1000) / 10; }
  function series(key, name, color) {
    return { name: name, type: "bar", barMaxWidth: 22, itemStyle: { color: color },
             label: { show: true, position: "top", formatter: function (p) { return p.value === null ? "—" : p.value + "%"; } },
             data: sources.map(function (s) { return percent(s[key]); }) };
  }
  var chart = window.echarts.init(target, null, { renderer: "canvas" });
  chart.on("finished", function () { block.dataset.drawn = "true"; });
  chart.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
    legend: { top: 0 },
    grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
    xAxis: { type: "category", data: sources.map(function (s) { return s.source_name; }) },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [series("reply_rate", "答复率", "#0b57d0"), series("on_time_rate", "按期答复率", "#1a7f37"),
             series("satisfaction_rate", "满意率", "#bf8700")]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
