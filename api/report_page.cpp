// The HTML of lumen report: a page that holds its data (JSON), Chart.js and the code that draws
// the curves and the map. Nothing is loaded from elsewhere when it is viewed.
//
// For tests and links: report.html#show=I opens point I's neighbours as a click on it does. When
// the page is drawn, <body> carries data-ready="1", data-map-points (points the map drew),
// data-expected-points (points in the data), data-thumbnails and data-errors (script errors seen).
#include <string>

#include "api/report.h"

namespace lumen {

namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const char* kHead = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>
window.lumenErrors = 0;
window.addEventListener("error", function () { window.lumenErrors += 1; });
</script>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0 0 0.3em 0; }
h2 { font-size: 1.1em; margin: 1.2em 0 0.4em 0; }
.meta { color: #555; font-size: 0.9em; }
.curves { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1em; }
.panel { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 0.6em; }
.chart { position: relative; height: 260px; }
.maprow { display: flex; gap: 1em; align-items: flex-start; }
.map { position: relative; flex: 1 1 auto; height: 640px; min-width: 400px; }
#neighbors { width: 330px; flex: 0 0 330px; max-height: 660px; overflow-y: auto; font-size: 0.85em; }
#neighbors img, #tooltip img { image-rendering: auto; display: block; border-radius: 3px; }
.nb { display: flex; gap: 0.5em; align-items: center; margin: 0.3em 0; }
.nb .name { word-break: break-all; }
#neighbor-list { padding-left: 0; list-style: none; }
#tooltip { position: absolute; pointer-events: none; background: rgba(255,255,255,0.96);
           border: 1px solid #999; border-radius: 4px; padding: 4px; font-size: 0.8em;
           display: none; max-width: 220px; word-break: break-all; z-index: 2; }
.empty { color: #888; font-style: italic; }
</style>
)HTML";

const char* kBody = R"HTML(
<p class="meta" id="runmeta"></p>
<h2>Training</h2>
<div class="curves">
  <div class="panel"><div class="chart"><canvas id="loss"></canvas></div></div>
  <div class="panel"><div class="chart"><canvas id="lr"></canvas></div></div>
  <div class="panel"><div class="chart"><canvas id="knn"></canvas></div></div>
</div>
<div id="mapsection">
<h2>Embeddings</h2>
<p class="meta" id="mapmeta"></p>
<div class="maprow">
  <div class="panel map"><canvas id="map"></canvas><div id="tooltip"></div></div>
  <div class="panel" id="neighbors"><p class="empty">Click a point to see its nearest neighbours.</p></div>
</div>
</div>
<script>
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("lumen-data").textContent);
  const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                   "#7f7f7f", "#bcbd22", "#17becf"];
  function colour(i) {
    return i < palette.length ? palette[i] : "hsl(" + ((i * 137) % 360) + ", 60%, 45%)";
  }
  function text(tag, content, cls) {
    const e = document.createElement(tag);
    e.textContent = content;
    if (cls) e.className = cls;
    return e;
  }
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function curve(id, title, series, ylabel, range) {
    const datasets = series.filter(s => s.x.length > 0).map((s, i) => ({
      label: s.label, borderColor: colour(i), backgroundColor: colour(i), pointRadius: 2,
      borderWidth: 2, showLine: true,
      data: s.x.map((x, j) => ({x: x, y: s.y[j]})).filter(p => p.x !== null && p.y !== null)
    }));
    new Chart(document.getElementById(id), {
      type: "scatter",
      data: {datasets: datasets},
      options: {
        plugins: {title: {display: true, text: datasets.length ? title : title + " (not recorded)"}},
        scales: {x: {title: {display: true, text: "epoch"}},
                 y: Object.assign({title: {display: true, text: ylabel}}, range || {})}
      }
    });
  }
  const c = data.curves;
  document.getElementById("runmeta").textContent =
      "run " + data.run_dir + ": " + c.epoch.length + " epochs in metrics.jsonl";
  curve("loss", "Training loss (epoch mean)", [{label: "loss", x: c.epoch, y: c.loss}], "loss");
  curve("lr", "Learning rate (end of epoch)", [{label: "learning rate", x: c.epoch, y: c.lr}], "lr");
  curve("knn", "kNN accuracy", [{label: "top-1", x: c.knn_epoch, y: c.knn_top1},
                                 {label: "top-5", x: c.knn_epoch, y: c.knn_top5}], "accuracy",
        {min: 0, max: 1});

  let mapPoints = 0, thumbnails = 0;
  const m = data.map;
  if (!m) {
    document.getElementById("mapsection").style.display = "none";
  } else {
    const n = m.x.length;
    const labelName = {};
    data.labels.forEach(l => { labelName[l.id] = l.name; });
    const labelIds = Array.from(new Set(m.label)).sort((a, b) => a - b);
    const datasets = labelIds.map((id, i) => ({
      label: "label " + id + (labelName[id] ? " (" + labelName[id] + ")" : ""),
      backgroundColor: colour(i), borderColor: colour(i), pointRadius: 3, pointHoverRadius: 6,
      data: []
    }));
    const datasetOf = {};
    labelIds.forEach((id, i) => { datasetOf[id] = i; });
    for (let i = 0; i < n; ++i) datasets[datasetOf[m.label[i]]].data.push({x: m.x[i], y: m.y[i], i: i});
    const selected = [];
    for (let i = 0; i < n; ++i) if (m.selected[i]) selected.push({x: m.x[i], y: m.y[i], i: i});
    const base = datasets.length;
    datasets.push({label: "selected (" + selected.length + ")", data: selected, pointRadius: 7,
                   pointHoverRadius: 8, borderColor: "#000", borderWidth: 2,
                   backgroundColor: "rgba(0,0,0,0)", pointStyle: "rectRot"});
    datasets.push({label: "neighbours", data: [], pointRadius: 8, borderColor: "#e00",
                   borderWidth: 2, backgroundColor: "rgba(0,0,0,0)"});
    datasets.push({label: "clicked", data: [], pointRadius: 10, borderColor: "#e00", borderWidth: 3,
                   backgroundColor: "rgba(255,0,0,0.25)", pointStyle: "crossRot"});
    if (!selected.length) datasets[base].hidden = true;

    const tooltip = document.getElementById("tooltip");
    function thumb(i, size) {
      if (m.thumb[i] < 0) return null;
      const img = document.createElement("img");
      img.src = "data:image/jpeg;base64," + data.thumbs[m.thumb[i]];
      img.width = size;
      img.height = size;
      img.alt = m.name[i];
      return img;
    }
    function external(context) {
      const t = context.tooltip;
      if (!t || t.opacity === 0 || !t.dataPoints || !t.dataPoints.length) {
        tooltip.style.display = "none";
        return;
      }
      const i = t.dataPoints[0].raw.i;
      tooltip.replaceChildren();
      const img = thumb(i, 96);
      if (img) tooltip.appendChild(img);
      tooltip.appendChild(text("div", m.name[i]));
      tooltip.appendChild(text("div", "label " + m.label[i] + (m.selected[i] ? ", selected" : "")));
      tooltip.style.display = "block";
      tooltip.style.left = (t.caretX + 12) + "px";
      tooltip.style.top = (t.caretY + 12) + "px";
    }
    const chart = new Chart(document.getElementById("map"), {
      type: "scatter",
      data: {datasets: datasets},
      options: {
        plugins: {
          title: {display: true, text: "PCA of the embeddings"},
          tooltip: {enabled: false, external: external}
        },
        scales: {
          x: {title: {display: true, text: "PC 1 (" + (100 * m.explained[0]).toFixed(1) + "% of the variance)"}},
          y: {title: {display: true, text: "PC 2 (" + (100 * m.explained[1]).toFixed(1) + "% of the variance)"}}
        },
        onClick: function (event, elements) {
          if (elements.length) {
            const e = elements[0];
            show(chart.data.datasets[e.datasetIndex].data[e.index].i);
          }
        }
      }
    });
    function show(i) {
      const panel = document.getElementById("neighbors");
      panel.replaceChildren();
      panel.appendChild(text("h2", "Nearest neighbours"));
      const head = document.createElement("div");
      head.className = "nb";
      const img = thumb(i, 64);
      if (img) head.appendChild(img);
      head.appendChild(text("span", m.name[i] + " (label " + m.label[i] + ")", "name"));
      panel.appendChild(head);
      const near = [];
      const list = document.createElement("ol");
      list.id = "neighbor-list";
      for (let j = 0; j < m.k; ++j) {
        const o = m.neighbors[i * m.k + j];
        near.push({x: m.x[o], y: m.y[o], i: o});
        const item = document.createElement("li");
        item.className = "nb";
        item.dataset.point = String(o);
        const t = thumb(o, 48);
        if (t) item.appendChild(t);
        item.appendChild(text("span", m.name[o] + " — " + m.similarity[i * m.k + j].toFixed(3) +
                                      " (label " + m.label[o] + ")", "name"));
        list.appendChild(item);
      }
      if (!m.k) panel.appendChild(text("p", "No neighbours (neighbors=0).", "empty"));
      panel.appendChild(list);
      chart.data.datasets[base + 1].data = near;
      chart.data.datasets[base + 2].data = [{x: m.x[i], y: m.y[i], i: i}];
      chart.update();
      document.body.dataset.shown = String(i);
    }
    for (let k = 0; k < base; ++k) mapPoints += chart.getDatasetMeta(k).data.length;
    thumbnails = m.thumb.filter(t => t >= 0).length;
    document.getElementById("mapmeta").textContent =
        n + " of " + m.total + " embeddings (" + selected.length + " selected) from " +
        data.embeddings + "; hover for the image, click for the " + m.k + " nearest neighbours " +
        "(cosine similarity, among these points).";
    const wanted = /^#show=(\d+)$/.exec(window.location.hash);
    if (wanted && Number(wanted[1]) < n) show(Number(wanted[1]));
    document.body.dataset.expectedPoints = String(n);
  }
  document.body.dataset.mapPoints = String(mapPoints);
  document.body.dataset.thumbnails = String(thumbnails);
  document.body.dataset.errors = String(window.lumenErrors);
  document.body.dataset.ready = "1";
})();
</script>
</body>
</html>
)HTML";

}  // namespace

std::string report_page(const std::string& data_json, const std::string& chart_library,
                        const std::string& title) {
  std::string page = kHead;
  page += "<title>" + html_escape(title) + "</title>\n";
  page += "<script>\n/* Chart.js, embedded (MIT license) */\n" + chart_library + "\n</script>\n";
  page += "<script type=\"application/json\" id=\"lumen-data\">" + data_json + "</script>\n";
  page += "</head>\n<body>\n<h1>" + html_escape(title) + "</h1>\n";
  page += kBody;
  return page;
}

}  // namespace lumen
