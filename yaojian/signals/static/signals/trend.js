/* Quarterly cumulative IC (IC025–IC975) and EBGM (EB05–EB95) of a pair 季度累计趋势 (ECharts, served locally). */
(function () {
  var holder = document.getElementById("ic-chart");
  if (!holder || !window.echarts) { return; }
  var s = JSON.parse(holder.dataset.series);

  function band(el, name, mid, lo, hi, color, reference) {
    var width = hi.map(function (v, i) { return v === null || lo[i] === null ? null : v - lo[i]; });
    echarts.init(el).setOption({
      animation: false,
      title: {text: name, left: "center", textStyle: {fontSize: 14}},
      grid: {left: 48, right: 16, top: 40, bottom: 32},
      tooltip: {trigger: "axis", formatter: function (items) {
        var i = items[0].dataIndex, fmt = function (v) { return v === null ? "—" : v.toFixed(3); };
        return s.quarters[i] + "<br>N = " + (s.n[i] === null ? "—" : s.n[i]) + "<br>" + name.split("（")[0] + " " +
          fmt(mid[i]) + "（" + fmt(lo[i]) + " – " + fmt(hi[i]) + "）";
      }},
      xAxis: {type: "category", data: s.quarters},
      yAxis: {type: "value", scale: true},
      series: [
        // The band is the lower bound with the width stacked on it; "all" stacks across signs (IC025 < 0).
        {name: "下限", type: "line", data: lo, stack: "band", stackStrategy: "all", symbol: "none",
          lineStyle: {opacity: 0}},
        {name: "区间", type: "line", data: width, stack: "band", stackStrategy: "all", symbol: "none",
          lineStyle: {opacity: 0},
          areaStyle: {color: color, opacity: 0.2}},
        {name: name, type: "line", data: mid, symbolSize: 6, itemStyle: {color: color},
          markLine: {silent: true, symbol: "none", lineStyle: {type: "dashed", color: "#999"},
            data: [{yAxis: reference}]}}
      ]
    });
  }
  band(holder, "IC（IC025–IC975）", s.ic, s.ic025, s.ic975, "#1565c0", 0);
  band(document.getElementById("ebgm-chart"), "EBGM（EB05–EB95）", s.ebgm, s.eb05, s.eb95, "#c62828", 2);
})();
