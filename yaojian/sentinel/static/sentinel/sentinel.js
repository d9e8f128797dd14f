/* Sentinel pages 哨点页面: live countdowns on the response board and the day × district heat grid. */
(function () {
  "use strict";
  var started = Date.now();

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(seconds) {
    var late = seconds <= 0, s = Math.abs(seconds);
    var text = pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
    return late ? "已超时 " + text : "剩余 " + text;
  }

  // The server renders the remaining seconds; the page counts down from there (no clock of its own).
  function tick() {
    var elapsed = Math.floor((Date.now() - started) / 1000);
    document.querySelectorAll("[data-remaining]").forEach(function (el) {
      var left = parseInt(el.getAttribute("data-remaining"), 10) - elapsed;
      el.textContent = format(left);
      el.classList.toggle("overdue", left <= 0);
      el.classList.toggle("soon", left > 0 && left < 4 * 3600);
    });
  }

  function heat() {
    var el = document.getElementById("heat-grid");
    if (!el || typeof echarts === "undefined") return;
    var grid = JSON.parse(el.getAttribute("data-grid"));
    var max = grid.cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    echarts.init(el).setOption({
      tooltip: {position: "top", formatter: function (p) {
        return grid.districts[p.value[1]] + " " + grid.days[p.value[0]] + "：" + p.value[2] + " 例"; }},
      grid: {left: 90, right: 16, top: 16, bottom: 96},
      xAxis: {type: "category", data: grid.days, splitArea: {show: true}},
      yAxis: {type: "category", data: grid.districts, splitArea: {show: true}},
      visualMap: {min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0,
        inRange: {color: ["#fff5f0", "#fb6a4a", "#a50f15"]}},
      series: [{type: "heatmap", data: grid.cells, label: {show: true}}]
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    if (document.querySelector("[data-remaining]")) setInterval(tick, 1000);
    heat();
  });
})();
