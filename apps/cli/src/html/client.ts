/**
 * The page's own script, inlined after uPlot: charts the counters picked in
 * the list (one chart per arch column, x = checkpoints) and keeps each
 * column's counter table in step with the pick. The maps and every other
 * table are static HTML and need no script.
 *
 * It reads the JSON block #hugemm-data: { counters, defaults, columns:
 * [{ archId, checkpoints: [{ name, counters }] }] }.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("hugemm-data").textContent);
  var pick = document.getElementById("counter-pick");
  var filter = document.getElementById("counter-filter");
  var COLORS = ["#4e79a7", "#e15759", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"];
  var charts = [];

  function selected() {
    var out = [];
    for (var i = 0; i < pick.options.length; i++) if (pick.options[i].selected) out.push(pick.options[i].value);
    return out;
  }

  function valueOf(cp, name) {
    var v = cp.counters[name];
    return typeof v === "number" ? v : null;
  }

  function cell(tag, text, cls) {
    var e = document.createElement(tag);
    e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function fillTable(ci, names) {
    var table = document.getElementById("counters-table-" + ci);
    if (!table) return;
    var cps = data.columns[ci].checkpoints;
    var thead = table.tHead || table.createTHead();
    thead.textContent = "";
    var hr = thead.insertRow();
    var h0 = cell("th", "checkpoint");
    h0.scope = "col";
    hr.appendChild(h0);
    names.forEach(function (n) {
      var h = cell("th", n);
      h.scope = "col";
      hr.appendChild(h);
    });
    var body = table.tBodies[0] || table.createTBody();
    body.textContent = "";
    cps.forEach(function (cp) {
      var r = body.insertRow();
      var th = cell("th", cp.name);
      th.scope = "row";
      r.appendChild(th);
      names.forEach(function (n) {
        var v = valueOf(cp, n);
        r.appendChild(cell("td", v === null ? "-" : String(v), "num"));
      });
    });
  }

  function drawColumn(ci, names) {
    var host = document.getElementById("chart-" + ci);
    if (!host) return;
    var cps = data.columns[ci].checkpoints;
    host.textContent = "";
    host.setAttribute("data-drawn", "0");
    if (cps.length === 0 || names.length === 0) {
      host.appendChild(cell("p", cps.length === 0 ? "No checkpoints to chart." : "No counter picked.", "note"));
      return;
    }
    var xs = cps.map(function (_, i) { return i; });
    var series = [{ label: "checkpoint", value: function (u, v) { return v === null || !cps[v] ? "" : cps[v].name; } }];
    var rows = [xs];
    names.forEach(function (n, i) {
      series.push({ label: n, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true, size: 7 } });
      rows.push(cps.map(function (cp) { return valueOf(cp, n); }));
    });
    var opts = {
      width: Math.max(300, host.clientWidth || 600),
      height: 260,
      scales: {
        x: { time: false, range: function () { return [-0.5, cps.length - 0.5]; } },
      },
      series: series,
      axes: [
        {
          splits: function () { return xs; },
          values: function (u, ticks) { return ticks.map(function (t) { return cps[t] ? cps[t].name : ""; }); },
        },
        { size: 60 },
      ],
    };
    charts.push(new uPlot(opts, rows, host));
    host.setAttribute("data-drawn", "1");
    host.setAttribute("data-series", String(names.length));
  }

  function draw() {
    var names = selected();
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    data.columns.forEach(function (_, ci) {
      drawColumn(ci, names);
      fillTable(ci, names);
    });
  }

  filter.addEventListener("input", function () {
    var q = filter.value.trim().toLowerCase();
    for (var i = 0; i < pick.options.length; i++) {
      var o = pick.options[i];
      o.hidden = q !== "" && o.value.toLowerCase().indexOf(q) < 0 && !o.selected;
    }
  });
  pick.addEventListener("change", draw);
  draw();
})();
`;
