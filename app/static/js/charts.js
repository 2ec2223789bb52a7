// Draws the summary's charts with Chart.js (vendored, loaded before this module as window.Chart)
// from each canvas's data-chart attribute. The same numbers are in a table under each chart.

const palette = ["#1f6feb", "#d4761e", "#2da44e", "#8250df", "#cf222e", "#0a7f86"];

function draw(canvas) {
  const data = JSON.parse(canvas.dataset.chart);
  const datasets = data.series.map((series, index) => ({
    label: series.name,
    data: series.values,
    backgroundColor: palette[index % palette.length],
    borderColor: palette[index % palette.length],
    pointRadius: data.kind === "line" ? 0 : undefined,
    tension: 0.2,
  }));
  return new window.Chart(canvas, {
    type: data.kind,
    data: { labels: data.labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: datasets.length > 1 } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

if (window.Chart) {
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    canvas.chart = draw(canvas);
    canvas.dataset.drawn = "true";
  }
}
