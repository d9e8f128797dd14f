/* Smart-pharmacy charts 智慧药店图表 (ECharts, served locally): a series with its threshold and alarms,
   and the district treemap of the day's counts and alerts. */
(function () {
  if (!window.echarts) { return; }
  var ALERT = "#d32f2f";

  var holder = document.getElementById("series-chart");
  if (holder) {
    var s = JSON.parse(holder.dataset.series);
    var alertDays = (s.alert_days || []).map(function (d) { return {xAxis: d}; });
    echarts.init(holder).setOption({
      animation: false,
      grid: {left: 48, right: 16, top: 36, bottom: 32},
      tooltip: {trigger: "axis"},
      legend: {data: [s.metric, "阈值上限", "超过阈值"], top: 0},
      xAxis: {type: "category", data: s.days},
      yAxis: {type: "value", minInterval: 1},
      series: [
        {name: s.metric, type: "line", data: s.counts, symbolSize: 4, itemStyle: {color: "#1565c0"},
          markLine: {silent: true, symbol: "none", label: {show: false},
            lineStyle: {color: "rgba(211, 47, 47, 0.35)", width: 6, type: "solid"}, data: alertDays}},
        {name: "阈值上限", type: "line", data: s.upper, symbol: "none", connectNulls: false,
          lineStyle: {type: "dashed", color: "#ef6c00"}, itemStyle: {color: "#ef6c00"}},
        {name: "超过阈值", type: "scatter", data: s.alarms, symbolSize: 12, itemStyle: {color: ALERT}}
      ]
    });
  }

  var tree = document.getElementById("district-treemap");
  if (tree) {
    var data = JSON.parse(tree.dataset.tree);
    function colour(node) {
      node.itemStyle = {color: node.alert ? ALERT : "#5c8fd6"};
      (node.children || []).forEach(colour);
      return node;
    }
    var chart = echarts.init(tree);
    chart.setOption({
      animation: false,
      tooltip: {formatter: function (p) { return p.name + "：" + p.value + (p.data.alert ? "（预警）" : ""); }},
      series: [{type: "treemap", data: data.map(colour), roam: false, nodeClick: false, breadcrumb: {show: false},
        top: 8, bottom: 8, left: 8, right: 8, leafDepth: 2, upperLabel: {show: true, height: 22, color: "#fff"},
        label: {show: true, formatter: "{b}\n{c}", color: "#fff", fontSize: 13}, levels: [{itemStyle: {gapWidth: 3, borderColor: "#fff"}},
          {itemStyle: {gapWidth: 1, borderColor: "rgba(255,255,255,.6)"}}]}]
    });
    chart.on("click", function (p) {
      var path = p.treePathInfo || [], district = path[1] ? data.filter(function (d) {
        return d.name === path[1].name; })[0] : null;
      if (!district) { return; }
      var cls = path[2] ? district.children.filter(function (c) { return c.name === path[2].name; })[0] : null;
      window.location = tree.dataset.seriesUrl + "?division=" + district.code + "&day=" + tree.dataset.day +
        (cls ? "&class=" + cls.code : "");
    });
  }
})();
