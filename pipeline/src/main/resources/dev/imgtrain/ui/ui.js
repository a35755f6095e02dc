// imgtrain ui: sorting and filtering of tables, the compare form, and the charts (ECharts, served by this server).
// Data comes from the server's JSON API; names taken from the warehouse are escaped before they enter any markup.
(function () {
  'use strict';

  var POLL_MS = 2000;

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  function getJson(url) {
    return fetch(url, {headers: {'Accept': 'application/json'}, cache: 'no-store'}).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(url + ': ' + r.status + (body.error ? ' ' + body.error : ''));
        });
      }
      return r.json();
    });
  }

  function showProblem(el, message) {
    var p = document.createElement('p');
    p.className = 'problem';
    p.textContent = message;
    el.parentNode.insertBefore(p, el);
  }

  // ---- tables: sort by a header click, filter by dataset and text ----
  function cellValue(td, type) {
    var raw = td.hasAttribute('data-value') ? td.getAttribute('data-value') : td.textContent.trim();
    if (type === 'number') {
      var n = parseFloat(raw);
      return isNaN(n) ? -Infinity : n;
    }
    return raw.toLowerCase();
  }

  function makeSortable(table) {
    var headers = table.querySelectorAll('thead th');
    headers.forEach(function (th, index) {
      var type = th.getAttribute('data-type');
      if (!type) { return; }
      th.addEventListener('click', function () {
        var asc = !th.classList.contains('sorted-asc');
        headers.forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
        th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a.cells[index], type), y = cellValue(b.cells[index], type);
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function runsPage() {
    var table = document.getElementById('runs');
    if (!table) { return; }
    makeSortable(table);
    var dataset = document.getElementById('filter-dataset');
    var text = document.getElementById('filter-text');
    function filter() {
      var d = dataset.value, t = text.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var show = (!d || row.getAttribute('data-dataset') === d) && (!t || row.textContent.toLowerCase().indexOf(t) >= 0);
        row.classList.toggle('hidden', !show);
      });
    }
    dataset.addEventListener('change', filter);
    text.addEventListener('input', filter);
    var form = document.getElementById('compare-form');
    var hint = document.getElementById('compare-hint');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var ids = Array.prototype.map.call(form.querySelectorAll('input[name=run]:checked'), function (c) { return c.value; });
      if (ids.length < 2 || ids.length > 10) {
        hint.textContent = 'select 2 to 10 runs (' + ids.length + ' selected)';
        return;
      }
      window.location.href = '/compare?runs=' + ids.map(encodeURIComponent).join(',');
    });
  }

  // ---- charts ----
  var charts = {};
  window.imgtrainCharts = charts;

  function lineOption(title, series) {
    return {
      animation: false,
      title: {text: title, left: 'center', textStyle: {fontSize: 14}},
      tooltip: {
        trigger: 'item',
        formatter: function (p) {
          return escapeHtml(p.seriesName) + '<br>epoch ' + p.value[0] + ': ' +
            (p.value[1] === null ? '-' : Number(p.value[1]).toFixed(4));
        }
      },
      legend: {type: 'scroll', bottom: 0},
      grid: {left: 56, right: 24, top: 36, bottom: 56},
      xAxis: {type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 24, minInterval: 1, min: 1},
      yAxis: {type: 'value', scale: true},
      series: series.map(function (s) {
        return {name: s.name, type: 'line', data: s.data, showSymbol: true, symbolSize: 6, connectNulls: true};
      })
    };
  }

  function points(metrics, key) {
    return metrics.map(function (m) {
      return [m.epoch, typeof m[key] === 'number' ? m[key] : null];
    });
  }

  function draw(el, option) {
    var chart = charts[el.id] || echarts.init(el, null, {renderer: 'canvas'});
    charts[el.id] = chart;
    chart.setOption(option, true);
    el.setAttribute('data-series', String(option.series.length));
    el.setAttribute('data-points', String(option.series.reduce(function (n, s) { return n + s.data.length; }, 0)));
  }

  function runCharts(box) {
    var id = box.getAttribute('data-run');
    var live = box.getAttribute('data-live') === 'true';
    var url = '/api/runs/' + encodeURIComponent(id) + '/metrics';
    function update() {
      return getJson(url).then(function (run) {
        box.querySelectorAll('.chart').forEach(function (el) {
          var metric = el.getAttribute('data-metric');
          draw(el, lineOption(el.getAttribute('data-title'), [
            {name: metric, data: points(run.metrics, metric)},
            {name: 'val_' + metric, data: points(run.metrics, 'val_' + metric)}
          ]));
        });
        var table = document.getElementById('history');
        if (table && table.tBodies[0].rows.length !== run.metrics.length) {
          var body = table.tBodies[0];
          body.textContent = '';
          run.metrics.forEach(function (m) {
            var row = body.insertRow();
            [m.epoch, m.loss, m.accuracy, m.val_loss, m.val_accuracy, m.epoch_seconds].forEach(function (v, i) {
              row.insertCell().textContent = typeof v !== 'number' ? '' : i === 0 ? String(v)
                : i === 5 ? v.toFixed(1) : v.toFixed(4);
            });
          });
        }
        var done = document.getElementById('epochs-done');
        if (done) { done.textContent = String(run.metrics.length); }
        var status = document.getElementById('run-status');
        if (status) { status.textContent = run.status; status.className = 'status ' + run.status; }
        var empty = document.getElementById('no-history');
        if (empty && run.metrics.length > 0) { empty.remove(); }
        return run;
      });
    }
    function poll() {
      update().then(function (run) {
        if (run.status !== 'committed') { setTimeout(poll, POLL_MS); }
      }).catch(function (e) {
        // A warehouse that is briefly unreachable: try again, say so once.
        if (!box.getAttribute('data-failed')) { box.setAttribute('data-failed', 'true'); showProblem(box, String(e.message)); }
        setTimeout(poll, POLL_MS * 2);
      });
    }
    if (live) {
      poll();
    } else {
      update().catch(function (e) { showProblem(box, String(e.message)); });
    }
  }

  function overlaid(box, runs) {
    box.querySelectorAll('.chart[data-metric]').forEach(function (el) {
      var metric = el.getAttribute('data-metric');
      draw(el, lineOption(el.getAttribute('data-title'), runs.map(function (r) {
        return {name: r.run_id, data: points(r.metrics, metric)};
      })));
    });
  }

  function compareCharts(box) {
    getJson('/api/compare?runs=' + box.getAttribute('data-compare'))
      .then(function (runs) { overlaid(box, runs); })
      .catch(function (e) { showProblem(box, String(e.message)); });
  }

  function parallel(el, sweep) {
    var keys = (sweep.swept_keys || []).slice();
    var rows = sweep.leaderboard || [];
    var axes = keys.map(function (k, i) {
      var values = rows.map(function (r) { return r[k]; });
      var numeric = values.every(function (v) { return v !== null && v !== '' && !isNaN(Number(v)); });
      var axis = {dim: i, name: k, nameTextStyle: {fontSize: 11}};
      if (numeric) {
        axis.type = 'value';
        axis.scale = true;
      } else {
        axis.type = 'category';
        axis.data = values.map(String).filter(function (v, j, a) { return a.indexOf(v) === j; });
      }
      return axis;
    });
    axes.push({dim: keys.length, name: 'final val accuracy', type: 'value', scale: true});
    var data = rows.map(function (r) {
      var line = keys.map(function (k, i) { return axes[i].type === 'value' ? Number(r[k]) : String(r[k]); });
      line.push(typeof r.final_val_accuracy === 'number' ? r.final_val_accuracy : null);
      return {name: r.run_id, value: line};
    });
    var option = {
      animation: false,
      title: {text: el.getAttribute('data-title'), left: 'center', textStyle: {fontSize: 14}},
      tooltip: {trigger: 'item', formatter: function (p) { return escapeHtml(p.name); }},
      parallelAxis: axes,
      parallel: {left: 80, right: 120, top: 60, bottom: 30},
      visualMap: {type: 'continuous', dimension: keys.length, orient: 'vertical', right: 10, top: 'middle',
        min: Math.min.apply(null, data.map(function (d) { return d.value[keys.length] || 0; })),
        max: Math.max.apply(null, data.map(function (d) { return d.value[keys.length] || 0; })),
        calculable: false, text: ['best', 'worst'], inRange: {color: ['#d94e5d', '#eac736', '#50a3ba'].reverse()}},
      series: [{name: 'trials', type: 'parallel', lineStyle: {width: 2, opacity: 0.7}, data: data}]
    };
    draw(el, option);
    el.setAttribute('data-lines', String(data.length));
  }

  function sweepCharts(box) {
    getJson('/api/sweeps/' + box.getAttribute('data-sweep')).then(function (sweep) {
      overlaid(box, sweep.trials || []);
      var el = box.querySelector('.chart[data-kind=parallel]');
      if (el) { parallel(el, sweep); }
    }).catch(function (e) { showProblem(box, String(e.message)); });
  }

  function start() {
    runsPage();
    document.querySelectorAll('table.sortable-any').forEach(makeSortable);
    document.querySelectorAll('.charts[data-run]').forEach(runCharts);
    document.querySelectorAll('.charts[data-compare]').forEach(compareCharts);
    document.querySelectorAll('.charts[data-sweep]').forEach(sweepCharts);
    window.addEventListener('resize', function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
