// 督评工作台: draws the charts a page describes in data-chart (ECharts, bundled), on load and after htmx swaps.
(function () {
  "use strict";
  function draw(root) {
    if (typeof echarts === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var c = JSON.parse(el.dataset.chart);
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption({
        animation: false,
        title: { text: c.title, left: "center", textStyle: { fontSize: 14, fontWeight: "normal" } },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 48, right: 16, top: 40, bottom: 56 },
        xAxis: { type: "category", data: c.categories, axisLabel: { interval: 0 } },
        yAxis: { type: "value", name: c.axis, minInterval: c.whole ? 1 : 0 },
        series: c.series.map(function (s) { return { type: "bar", name: s.name, data: s.data }; })
      });
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (e) { draw(e.detail.elt); });
})();
