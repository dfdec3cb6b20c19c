// Tooltips for the server-rendered pygal charts (no inline script: the page's CSP allows only 'self').
// pygal writes, next to each bar or dot, <desc class="value"> and <desc class="x_label">; the series
// name is the legend text of the same serie-N. One floating box per page shows "label · series: value".
(function () {
  "use strict";
  var box = document.createElement("div");
  box.className = "chart-tooltip";
  box.setAttribute("role", "tooltip");
  box.hidden = true;
  document.body.appendChild(box);

  function text(node, selector) {
    var found = node && node.querySelector(selector);
    return found ? found.textContent : "";
  }

  function seriesName(svg, trigger) {
    var series = trigger.closest("g.series");
    var match = series && /serie-(\d+)/.exec(series.getAttribute("class"));
    return match ? text(svg, "#activate-serie-" + match[1] + " text") : "";
  }

  function show(svg, trigger, event) {
    var point = trigger.parentNode;
    var label = text(point, "desc.x_label");
    var name = seriesName(svg, trigger);
    box.textContent = "";
    var head = document.createElement("div");
    head.className = "chart-tooltip-label";
    head.textContent = label;
    var line = document.createElement("div");
    line.textContent = (name ? name + ": " : "") + text(point, "desc.value");
    box.appendChild(head);
    box.appendChild(line);
    box.hidden = false;
    move(event);
  }

  function move(event) {
    box.style.left = Math.min(event.pageX + 14, window.scrollX + document.documentElement.clientWidth - box.offsetWidth - 8) + "px";
    box.style.top = (event.pageY + 14) + "px";
  }

  document.querySelectorAll(".chart svg").forEach(function (svg) {
    svg.querySelectorAll(".tooltip-trigger").forEach(function (trigger) {
      trigger.addEventListener("mouseenter", function (event) { show(svg, trigger, event); });
      trigger.addEventListener("mousemove", move);
      trigger.addEventListener("mouseleave", function () { box.hidden = true; });
      trigger.setAttribute("tabindex", "0");
      trigger.addEventListener("focus", function () {
        var r = trigger.getBoundingClientRect();
        show(svg, trigger, {pageX: r.left + window.scrollX, pageY: r.top + window.scrollY});
      });
      trigger.addEventListener("blur", function () { box.hidden = true; });
    });
  });
})();
