// Draws every <canvas data-chart="bar|doughnut|line"> on the page from the JSON its
// data-source attribute names (a <script type="application/json"> written by Django's
// json_script). Chart.js paints labels on the canvas, so no data is ever parsed as HTML.
(function () {
  "use strict";

  // Bootstrap's palette, so charts match the badges elsewhere.
  const PALETTE = ["#0d6efd", "#6f42c1", "#20c997", "#fd7e14", "#d63384", "#0dcaf0", "#6c757d", "#198754", "#ffc107", "#dc3545"];
  const STATUS = {
    available: "#198754",
    creating: "#0dcaf0",
    updating: "#0dcaf0",
    "backing-up": "#0dcaf0",
    restoring: "#0dcaf0",
    deleting: "#ffc107",
    unmanaging: "#ffc107",
    error: "#dc3545",
    error_deleting: "#a52834",
    deleted: "#6c757d",
  };

  function colours(canvas, data) {
    const byStatus = canvas.dataset.palette === "status";
    const single = data.datasets.length === 1;
    data.datasets.forEach((dataset, index) => {
      if (byStatus) {
        dataset.backgroundColor = data.labels.map((label, i) => STATUS[label] || PALETTE[i % PALETTE.length]);
      } else if (single && canvas.dataset.chart === "doughnut") {
        dataset.backgroundColor = data.labels.map((_, i) => PALETTE[i % PALETTE.length]);
      } else {
        dataset.backgroundColor = PALETTE[index % PALETTE.length];
        dataset.borderColor = PALETTE[index % PALETTE.length];
      }
    });
  }

  function options(canvas, data) {
    const kind = canvas.dataset.chart;
    const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const result = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced ? false : { duration: 400 },
      plugins: { legend: { display: kind === "doughnut" || data.datasets.length > 1 } },
    };
    if (kind !== "doughnut" && kind !== "pie") {
      const stacked = canvas.dataset.stacked === "true";
      result.scales = {
        x: { stacked: stacked },
        y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
      };
    }
    return result;
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.source || "");
    if (!source || window.Chart.getChart(canvas)) return;
    let data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      console.error("chart data is not JSON", canvas.id, error);
      return;
    }
    colours(canvas, data);
    new window.Chart(canvas, { type: canvas.dataset.chart, data: data, options: options(canvas, data) });
  }

  function drawAll(root) {
    if (typeof window.Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => drawAll(document));
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
})();
