/*! minichart 0.4.2 | tiny sparkline charts | MIT License (vendored copy) */
(function (global) {
  "use strict";
  function scale(points, height) {
    var max = Math.max.apply(null, points);
    return points.map(function (p) { return Math.round((p / max) * height); });
  }
  function drawSeries(ctx, series, height) {
    var n = series.points.length;
    var ys = scale(series.points, height);
    ctx.push(series.label + ":" + ys.join(",") + " (" + n + ")");
  }
  function draw(element, allSeries, options) {
    var height = (options && options.height) || 40;
    var ctx = [];
    for (var i = 0; i < allSeries.length; i++) {
      drawSeries(ctx, allSeries[i], height);
    }
    element.textContent = ctx.join(" | ");
  }
  global.MiniChart = { draw: draw, version: "0.4.2" };
})(window);
