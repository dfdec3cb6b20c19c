// The dashboard's charts, drawn here as SVG from the figures the page carries (app/charts.py): each
// <figure class="chart-figure" data-chart="{json}"> holds a table with the same numbers. Drawing adds the SVG
// before the table and hides the table visually (screen readers still read it; without JavaScript it shows).
// No inline script (the CSP allows only this site's files), no library, nothing downloaded.
// Kinds: "bar" (grouped), "stacked", "line", "ranking" (horizontal bars, every label shown).
// A bar or dot shows "label · series: value" on hover or keyboard focus in one floating box per page.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#0d6efd", "#fd7e14", "#20c997", "#6f42c1", "#dc3545"];
  var LABEL = 13, LEGEND = 14, TITLE = 16, PAD = 16;

  var box = document.createElement("div");
  box.className = "chart-tooltip";
  box.setAttribute("role", "tooltip");
  box.hidden = true;
  document.body.appendChild(box);

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // Figures as the page writes them: thousands separated, then the page's digits ("0123456789,.-" mapped).
  function formatter(digits) {
    var probe = "0123456789,.-";
    var map = digits && digits.length === probe.length ? digits : probe;
    return function (value, decimals) {
      var parts = Math.abs(value).toFixed(decimals).split(".");
      var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
      var text = (value < 0 ? "-" : "") + whole + (parts[1] ? "." + parts[1] : "");
      return text.replace(/[0-9,.\-]/g, function (c) { return map.charAt(probe.indexOf(c)); });
    };
  }

  // About five round steps from min to max (0 included): 1, 2, 2.5 or 5 times a power of ten; whole
  // steps when every figure is whole (counts, Toman).
  function ticks(min, max, whole) {
    if (max === min) max = min + 1;
    var raw = (max - min) / 5, power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * power; })
      .filter(function (s) { return s >= raw && (!whole || (s >= 1 && s === Math.round(s))); })[0] || 1;
    var list = [];
    for (var v = Math.floor(min / step) * step; v < max + step / 2; v += step) list.push(Math.round(v * 1e6) / 1e6);
    if (list[list.length - 1] < max) list.push(list[list.length - 1] + step);
    return {values: list, decimals: step >= 1 ? 0 : (step >= 0.1 ? 1 : 2)};
  }

  function textWidth(text, size) { return String(text).length * size * 0.58; }

  function extent(spec) {
    var lows = [0], highs = [0];
    if (spec.kind === "stacked") {
      spec.labels.forEach(function (_, i) {
        var up = 0, down = 0;
        spec.series.forEach(function (s) { if (s.values[i] >= 0) up += s.values[i]; else down += s.values[i]; });
        highs.push(up); lows.push(down);
      });
    } else {
      spec.series.forEach(function (s) { highs.push.apply(highs, s.values); lows.push.apply(lows, s.values); });
    }
    return [Math.min.apply(null, lows), Math.max.apply(null, highs)];
  }

  function legend(svg, spec, top) {
    var columns = Math.min(3, spec.series.length), width = (spec.width - 2 * PAD) / columns;
    spec.series.forEach(function (s, i) {
      var x = PAD + (i % columns) * width, y = top + Math.floor(i / columns) * 24;
      el("rect", {x: x, y: y, width: 14, height: 14, rx: 2, fill: COLORS[i % COLORS.length]}, svg);
      el("text", {x: x + 20, y: y + 12, "font-size": LEGEND, "class": "chart-legend"}, svg, s.name);
    });
  }

  function point(svg, node, spec, s, i) {
    node.setAttribute("class", "tooltip-trigger");
    node.setAttribute("tabindex", "0");
    node.setAttribute("aria-label", spec.labels[i] + " · " + s.name + ": " + s.texts[i]);
    node.chart = {label: spec.labels[i], name: s.name, text: s.texts[i]};
    return node;
  }

  function draw(figure) {
    var spec = JSON.parse(figure.getAttribute("data-chart"));
    var fmt = formatter(spec.digits), W = spec.width, H = spec.height;
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "group", "aria-label": spec.title,
                         "class": "chart-svg chart-" + spec.kind, "font-family": "Vazirmatn, Tahoma, system-ui, sans-serif"});
    el("text", {x: W / 2, y: PAD + TITLE, "text-anchor": "middle", "font-size": TITLE, "class": "chart-title"}, svg, spec.title);
    var legendRows = Math.ceil(spec.series.length / Math.min(3, spec.series.length || 1));
    var legendTop = H - PAD - legendRows * 24 + 6;
    var whole = spec.series.every(function (s) { return s.values.every(function (v) { return v === Math.round(v); }); });
    var range = extent(spec), scale = ticks(range[0], range[1], whole);
    var lo = scale.values[0], hi = scale.values[scale.values.length - 1];
    var tickTexts = scale.values.map(function (v) { return fmt(v, scale.decimals); });
    var horizontal = spec.kind === "ranking";
    var labelRoom = horizontal
      ? Math.min(W * 0.4, Math.max.apply(null, spec.labels.map(function (l) { return textWidth(l, LABEL); }).concat([20])) + 10)
      : Math.max.apply(null, tickTexts.map(function (t) { return textWidth(t, LABEL); })) + 10;
    var plot = {left: PAD + labelRoom, top: PAD + TITLE + 20, right: W - PAD - (horizontal ? 20 : 0),
                bottom: legendTop - 12 - (horizontal ? LABEL + 8 : LABEL + 10)};
    var along = horizontal ? plot.bottom - plot.top : plot.right - plot.left;
    var band = along / Math.max(1, spec.labels.length);
    function valuePos(v) {  // a value's pixel on the value axis
      return horizontal ? plot.left + (v - lo) / (hi - lo) * (plot.right - plot.left)
                        : plot.bottom - (v - lo) / (hi - lo) * (plot.bottom - plot.top);
    }
    function bandStart(i) { return (horizontal ? plot.top : plot.left) + i * band; }

    var grid = el("g", {"class": "chart-axis", "font-size": LABEL, fill: "#6c757d"}, svg);
    scale.values.forEach(function (v, k) {
      var p = valuePos(v);
      if (horizontal) {
        el("line", {x1: p, x2: p, y1: plot.top, y2: plot.bottom, stroke: v === 0 ? "#adb5bd" : "#e9ecef"}, grid);
        el("text", {x: p, y: plot.bottom + LABEL + 6, "text-anchor": "middle"}, grid, tickTexts[k]);
      } else {
        el("line", {x1: plot.left, x2: plot.right, y1: p, y2: p, stroke: v === 0 ? "#adb5bd" : "#e9ecef"}, grid);
        el("text", {x: plot.left - 6, y: p + 4, "text-anchor": "end"}, grid, tickTexts[k]);
      }
    });
    spec.labels.forEach(function (label, i) {
      if (i % spec.label_every) return;
      var mid = bandStart(i) + band / 2;
      if (horizontal) el("text", {x: plot.left - 6, y: mid + 4, "text-anchor": "end"}, grid, label);
      else el("text", {x: mid, y: plot.bottom + LABEL + 8, "text-anchor": "middle"}, grid, label);
    });

    var marks = el("g", {"class": "chart-marks"}, svg);
    var zero = valuePos(Math.max(lo, Math.min(0, hi)));
    var stackUp = spec.labels.map(function () { return 0; }), stackDown = stackUp.slice();
    spec.series.forEach(function (s, n) {
      var color = COLORS[n % COLORS.length], group = el("g", {"class": "series serie-" + n, fill: color}, marks);
      if (spec.kind === "line") {
        var xy = s.values.map(function (v, i) { return [bandStart(i) + band / 2, valuePos(v)]; });
        el("polyline", {points: xy.map(function (p) { return p.join(","); }).join(" "), fill: "none", stroke: color,
                        "stroke-width": 2}, group);
        xy.forEach(function (p, i) { point(svg, el("circle", {cx: p[0], cy: p[1], r: 4}, group), spec, s, i); });
        return;
      }
      var lanes = spec.kind === "stacked" ? 1 : spec.series.length;
      var thick = band * 0.8 / lanes, offset = band * 0.1 + (spec.kind === "stacked" ? 0 : n * thick);
      s.values.forEach(function (v, i) {
        var from = zero, to = valuePos(v);
        if (spec.kind === "stacked") {
          var base = v >= 0 ? stackUp[i] : stackDown[i];
          from = valuePos(base); to = valuePos(base + v);
          if (v >= 0) stackUp[i] += v; else stackDown[i] += v;
        }
        var start = bandStart(i) + offset, size = Math.max(Math.abs(to - from), v ? 1 : 0);
        var attrs = horizontal
          ? {x: Math.min(from, to), y: start, width: size, height: Math.max(1, thick - 2)}
          : {x: start, y: Math.min(from, to), width: Math.max(1, thick - 2), height: size};
        point(svg, el("rect", attrs, group), spec, s, i);
      });
    });
    legend(svg, spec, legendTop);

    figure.insertBefore(svg, figure.firstChild);
    var table = figure.querySelector("table.chart-data");
    if (table) table.classList.add("visually-hidden");
    figure.setAttribute("data-drawn", "true");
    svg.querySelectorAll(".tooltip-trigger").forEach(function (trigger) {
      trigger.addEventListener("mouseenter", function (event) { show(trigger.chart, event); });
      trigger.addEventListener("mousemove", move);
      trigger.addEventListener("mouseleave", function () { box.hidden = true; });
      trigger.addEventListener("focus", function () {
        var r = trigger.getBoundingClientRect();
        show(trigger.chart, {pageX: r.left + window.scrollX, pageY: r.top + window.scrollY});
      });
      trigger.addEventListener("blur", function () { box.hidden = true; });
    });
  }

  function show(data, event) {
    box.textContent = "";
    var head = document.createElement("div");
    head.className = "chart-tooltip-label";
    head.textContent = data.label;
    var line = document.createElement("div");
    line.textContent = (data.name ? data.name + ": " : "") + data.text;
    box.appendChild(head);
    box.appendChild(line);
    box.hidden = false;
    move(event);
  }

  function move(event) {
    box.style.left = Math.min(event.pageX + 14, window.scrollX + document.documentElement.clientWidth - box.offsetWidth - 8) + "px";
    box.style.top = (event.pageY + 14) + "px";
  }

  document.querySelectorAll(".chart-figure[data-chart]").forEach(function (figure) {
    try { draw(figure); } catch (error) { if (window.console) console.error("chart not drawn", error); }
  });
})();
