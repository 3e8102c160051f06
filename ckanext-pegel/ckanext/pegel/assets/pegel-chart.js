/*
 * pegel_view: the chart of a water-level series (uPlot, vendored by ckanext-suedwest).
 *
 * The page holds the server's first answer of pegel_series (script.pegel-chart__payload), the current
 * value and a table; this module draws the chart from it, then polls pegel_series for the chosen range
 * (24h, 7d, 30d) every refresh-seconds while the tab is visible. Warning levels, trend and staleness come
 * from the server, never from here, so the chart agrees with the dashboard's map.
 *
 * Testable state on the root element: data-state (ready, empty, error), data-range, data-points,
 * data-loads (answers shown), data-drawn-bands (Meldestufen drawn, e.g. "1 2 3 4") and data-drawn-lines
 * (reference lines drawn, e.g. "MNW MW MHW").
 */
this.ckan.module('pegel-chart', function ($) {
  'use strict';

  var LEVEL_KEYS = ['1', '2', '3', '4'];
  var REFERENCE_LINES = ['NNW', 'MNW', 'MW', 'MHW', 'HSW', 'HHW'];
  // Always in the y range, so the chart shows the distance to them; NNW/HSW/HHW only when reached.
  var RANGE_LINES = ['MNW', 'MW', 'MHW'];
  var ARROWS = {rising: '\u2197', falling: '\u2198', steady: '\u2192'};
  var HEIGHT = 340;
  var DAY = 86400;

  return {
    options: {
      resourceId: null,
      apiUrl: null,
      range: '24h',
      refreshSeconds: 60,
      locale: 'de',
      timezone: 'Europe/Berlin',
      quantity: ''
    },

    initialize: function () {
      $.proxyAll(this, /_on/);
      var root = this.root = this.el[0];
      this.range = String(this.options.range || '24h');
      this.quantity = String(this.options.quantity || this._('Water level'));
      this.refreshMs = Math.max(10, Number(this.options.refreshSeconds) || 60) * 1000;
      this.sequence = 0;
      this.loads = 0;
      this.chart = null;
      this.chartShape = null;
      this.payload = null;
      this.timer = null;
      this.request = null;
      this.loadedAt = 0;

      var locale = String(this.options.locale || 'de');
      var zone = String(this.options.timezone || 'Europe/Berlin');
      this.zone = zone;
      this.numbers = new Intl.NumberFormat(locale, {maximumFractionDigits: 1});
      this.dateTime = new Intl.DateTimeFormat(locale, {
        timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
      this.tickDay = new Intl.DateTimeFormat(locale, {timeZone: zone, day: '2-digit', month: '2-digit'});
      this.tickTime = new Intl.DateTimeFormat(locale, {
        timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});

      this.plot = root.querySelector('.pegel-chart__plot');
      this.notice = root.querySelector('.pegel-chart__notice');
      this.tableBox = root.querySelector('.pegel-chart__table');
      this.toggle = root.querySelector('.pegel-chart__table-toggle');

      // With JavaScript the chart comes first and the table on request.
      if (this.toggle && this.tableBox) {
        this.tableBox.hidden = true;
        this.toggle.hidden = false;
        this._setToggle(false);
        this.toggle.addEventListener('click', this._onToggle);
      }
      this.el.on('click', '[data-pegel-range]', this._onRange);
      document.addEventListener('visibilitychange', this._onVisibility);
      if (window.ResizeObserver) {
        this.resizer = new ResizeObserver(this._onResize);
        this.resizer.observe(this.plot);
      }

      var payload = null;
      var embedded = root.querySelector('.pegel-chart__payload');
      if (embedded) {
        try {
          payload = JSON.parse(embedded.textContent);
        } catch (error) {
          payload = null;
        }
      }
      if (payload && payload.buckets) {
        this.loadedAt = Date.now();
        this._show(payload);
        this._schedule(this.refreshMs);
      } else if (this.options.apiUrl && this.options.resourceId) {
        this._load();
      }
    },

    teardown: function () {
      this._stop();
      this.sequence += 1;
      if (this.request) {
        this.request.abort();
      }
      document.removeEventListener('visibilitychange', this._onVisibility);
      this.el.off('click', '[data-pegel-range]', this._onRange);
      if (this.toggle) {
        this.toggle.removeEventListener('click', this._onToggle);
      }
      if (this.resizer) {
        this.resizer.disconnect();
      }
      this._destroyChart();
    },

    // Polling

    _schedule: function (delay) {
      this._stop();
      if (!document.hidden) {
        this.timer = window.setTimeout(this._onTimer, delay);
      }
    },

    _stop: function () {
      if (this.timer) {
        window.clearTimeout(this.timer);
        this.timer = null;
      }
    },

    _onTimer: function () {
      this.timer = null;
      this._load();
    },

    _onVisibility: function () {
      if (document.hidden) {
        this._stop();
        return;
      }
      var due = this.refreshMs - (Date.now() - this.loadedAt);
      if (due <= 0) {
        this._load();
      } else {
        this._schedule(due);
      }
    },

    _load: function () {
      var module = this;
      var sequence = this.sequence += 1;
      this._stop();
      if (this.request) {
        this.request.abort();
      }
      var request = this.request = window.AbortController ? new AbortController() : null;
      var url = this.options.apiUrl + '?' + $.param({resource_id: this.options.resourceId, range: this.range});
      this.root.setAttribute('aria-busy', 'true');
      window.fetch(url, {
        credentials: 'same-origin',
        headers: {Accept: 'application/json'},
        signal: request ? request.signal : undefined
      }).then(function (response) {
        return response.json().catch(function () {
          return null;
        }).then(function (body) {
          return {status: response.status, body: body};
        });
      }).then(function (answer) {
        if (sequence !== module.sequence) {
          return;
        }
        if (answer.body && answer.body.success && answer.body.result) {
          module._show(answer.body.result);
        } else if (answer.status === 403 || answer.status === 404) {
          module._failed(module._('The readings of this series are not available to you.'));
        } else {
          module._failed(module._('The readings could not be loaded. The chart shows the last values received.'));
        }
      }).catch(function (error) {
        if (sequence !== module.sequence || (error && error.name === 'AbortError')) {
          return;
        }
        module._failed(module._('The readings could not be loaded. The chart shows the last values received.'));
      }).then(function () {
        if (sequence !== module.sequence) {
          return;
        }
        module.request = null;
        module.loadedAt = Date.now();
        module.root.removeAttribute('aria-busy');
        module._schedule(module.refreshMs);
      });
    },

    _failed: function (message) {
      this._notice(message);
      this.root.setAttribute('data-state', 'error');
    },

    // Controls

    _onRange: function (event) {
      var key = event.currentTarget.getAttribute('data-pegel-range');
      event.preventDefault();
      if (!key) {
        return;
      }
      this.range = key;
      this._markRange(key);
      this._load();
    },

    _markRange: function (key) {
      this.root.setAttribute('data-range', key);
      Array.prototype.forEach.call(this.root.querySelectorAll('[data-pegel-range]'), function (link) {
        var active = link.getAttribute('data-pegel-range') === key;
        link.setAttribute('aria-pressed', active ? 'true' : 'false');
        link.classList.toggle('btn-primary', active);
        link.classList.toggle('btn-default', !active);
        link.classList.toggle('btn-outline-primary', !active);
      });
    },

    _onToggle: function () {
      var show = this.tableBox.hidden;
      this.tableBox.hidden = !show;
      this._setToggle(show);
    },

    _setToggle: function (shown) {
      this.toggle.setAttribute('aria-expanded', shown ? 'true' : 'false');
      this.toggle.textContent = this.toggle.getAttribute(shown ? 'data-label-hide' : 'data-label-show');
    },

    _onResize: function () {
      if (this.chart) {
        var width = this._width();
        if (Math.abs(width - this.chart.width) > 1) {
          this.chart.setSize({width: width, height: HEIGHT});
        }
      }
    },

    // Rendering

    _show: function (payload) {
      this.payload = payload;
      this.range = payload.range || this.range;
      this._markRange(this.range);
      this._renderStatus(payload.status);
      this._renderTable(payload);
      var points = (payload.buckets || []).length;
      this.root.setAttribute('data-points', String(points));
      this.root.setAttribute('data-aggregated', payload.aggregated ? 'true' : 'false');
      if (points) {
        this._notice(null);
        this._renderChart(payload);
        this.root.setAttribute('data-state', 'ready');
      } else {
        this._destroyChart();
        this.plot.hidden = true;
        this.root.setAttribute('data-drawn-bands', '');
        this.root.setAttribute('data-drawn-lines', '');
        this._notice(this._('There are no readings in this period.'));
        this.root.setAttribute('data-state', 'empty');
      }
      this.loads += 1;
      this.root.setAttribute('data-loads', String(this.loads));
    },

    _notice: function (message) {
      this.notice.textContent = message || '';
      this.notice.hidden = !message;
    },

    _renderStatus: function (status) {
      var box = this.root.querySelector('.pegel-chart__status');
      if (!box || !status) {
        return;
      }
      var latest = status.latest;
      var current = this._element('p', 'pegel-chart__current');
      current.appendChild(this._element('span', 'pegel-chart__label',
        this._('Current %(quantity)s', {quantity: this.quantity}) + ':'));
      current.appendChild(document.createTextNode(' '));
      current.appendChild(this._element('strong', 'pegel-chart__value', latest
        ? this._number(latest.value) + ' ' + (latest.unit || '') : this._('no value')));
      if (status.trend) {
        current.appendChild(document.createTextNode(' '));
        var trend = this._element('span', 'pegel-chart__trend pegel-trend--' + status.trend);
        var arrow = this._element('span', null, ARROWS[status.trend] || '');
        arrow.setAttribute('aria-hidden', 'true');
        trend.appendChild(arrow);
        trend.appendChild(document.createTextNode(' ' + (status.trend_label || '')));
        current.appendChild(trend);
      }
      current.appendChild(document.createTextNode(' '));
      current.appendChild(this._element('span', 'pegel-chart__level pegel-badge pegel-level-' + status.level['class'],
        status.level.label));
      if (latest) {
        current.appendChild(document.createTextNode(' '));
        current.appendChild(this._element('span', 'pegel-chart__time',
          this._('As of %(time)s', {time: this._time(latest.time)})));
      }
      var staleText = null;
      if (!latest) {
        staleText = this._('There are no readings of this series yet.');
      } else if (status.stale) {
        staleText = this._('Last reading %(ago)s – the data are not up to date',
          {ago: this._ago(status.age_minutes)});
      }
      var stale = this._element('p', 'pegel-chart__stale alert alert-warning', staleText || '');
      stale.setAttribute('role', 'alert');
      stale.hidden = !staleText;
      box.replaceChildren(current, stale);
    },

    _renderTable: function (payload) {
      if (!this.tableBox) {
        return;
      }
      var unit = payload.unit || '';
      var aggregated = !!payload.aggregated;
      var table = this._element('table', 'table table-striped table-condensed');
      var rangeLabels = {'24h': this._('24 h'), '7d': this._('7 days'), '30d': this._('30 days')};
      table.appendChild(this._element('caption', null, this._('%(quantity)s over the last %(range)s',
        {quantity: this.quantity, range: rangeLabels[payload.range] || payload.range})));
      var head = this._element('tr');
      var headings = aggregated
        ? [this._('Time'), this._('Mean (%(unit)s)', {unit: unit}), this._('Minimum (%(unit)s)', {unit: unit}),
          this._('Maximum (%(unit)s)', {unit: unit})]
        : [this._('Time'), this._('%(quantity)s (%(unit)s)', {quantity: this.quantity, unit: unit})];
      headings.forEach(function (text) {
        var cell = this._element('th', null, text);
        cell.setAttribute('scope', 'col');
        head.appendChild(cell);
      }, this);
      table.appendChild(this._element('thead')).appendChild(head);
      var body = this._element('tbody');
      var buckets = payload.buckets || [];
      for (var index = buckets.length - 1; index >= 0; index -= 1) {
        var bucket = buckets[index];
        var row = this._element('tr');
        var th = this._element('th');
        th.setAttribute('scope', 'row');
        var time = this._element('time', null, this._time(bucket[0]));
        time.setAttribute('datetime', bucket[0]);
        th.appendChild(time);
        row.appendChild(th);
        row.appendChild(this._element('td', null, this._number(bucket[3])));
        if (aggregated) {
          row.appendChild(this._element('td', null, this._number(bucket[1])));
          row.appendChild(this._element('td', null, this._number(bucket[2])));
        }
        body.appendChild(row);
      }
      if (!buckets.length) {
        var empty = this._element('tr', 'pegel-chart__empty-row');
        var cell = this._element('td', null, this._('There are no readings in this period.'));
        cell.colSpan = aggregated ? 4 : 2;
        empty.appendChild(cell);
        body.appendChild(empty);
      }
      table.appendChild(body);
      this.tableBox.replaceChildren(table);
    },

    _renderChart: function (payload) {
      this.plot.hidden = false;
      var data = this._data(payload);
      var shape = payload.aggregated ? 'band' : 'line';
      if (this.chart && this.chartShape === shape) {
        this.chart.setData(data);
        return;
      }
      this._destroyChart();
      this.chartShape = shape;
      this.chart = new window.uPlot(this._chartOptions(payload), data, this.plot);
    },

    _destroyChart: function () {
      if (this.chart) {
        this.chart.destroy();
        this.chart = null;
        this.chartShape = null;
      }
    },

    // [times, mean, (min, max)]; a null point where readings are missing, so the line shows the gap.
    _data: function (payload) {
      var buckets = payload.buckets;
      var times = buckets.map(function (bucket) {
        return Date.parse(bucket[0]) / 1000;
      });
      var step = payload.bucket_seconds || this._medianStep(times);
      var columns = payload.aggregated ? [[], [], [], []] : [[], []];
      for (var index = 0; index < buckets.length; index += 1) {
        if (index > 0 && step && times[index] - times[index - 1] > 3 * step) {
          columns[0].push(times[index - 1] + step);
          for (var gap = 1; gap < columns.length; gap += 1) {
            columns[gap].push(null);
          }
        }
        columns[0].push(times[index]);
        columns[1].push(buckets[index][3]);
        if (payload.aggregated) {
          columns[2].push(buckets[index][1]);
          columns[3].push(buckets[index][2]);
        }
      }
      return columns;
    },

    _medianStep: function (times) {
      var steps = [];
      for (var index = 1; index < times.length; index += 1) {
        steps.push(times[index] - times[index - 1]);
      }
      if (!steps.length) {
        return 0;
      }
      steps.sort(function (a, b) {
        return a - b;
      });
      return steps[Math.floor(steps.length / 2)];
    },

    _chartOptions: function (payload) {
      var module = this;
      var colours = this._colours();
      var unit = payload.unit || (payload.thresholds && payload.thresholds.unit) || '';
      var format = function (u, value) {
        return value == null ? '\u2013' : module._number(value) + ' ' + unit;
      };
      var series = [
        {label: this._('Time'), value: function (u, value) {
          return value == null ? '\u2013' : module._time(value * 1000);
        }},
        {label: payload.aggregated ? this._('%(quantity)s (mean)', {quantity: this.quantity}) : this.quantity,
          stroke: colours.line, width: 2, value: format, points: {show: false}}
      ];
      var bands = [];
      if (payload.aggregated) {
        series.push({label: this._('Minimum'), stroke: colours.range, width: 1, value: format, points: {show: false}});
        series.push({label: this._('Maximum'), stroke: colours.range, width: 1, value: format, points: {show: false}});
        bands.push({series: [3, 2], fill: colours.rangeFill});
      }
      return {
        width: this._width(),
        height: HEIGHT,
        tzDate: function (seconds) {
          return window.uPlot.tzDate(new Date(seconds * 1000), module.zone);
        },
        scales: {
          x: {time: true, range: function (u, min, max) {
            return module._xRange(min, max);
          }},
          y: {range: function (u, min, max) {
            return module._yRange(min, max);
          }}
        },
        series: series,
        bands: bands,
        axes: [
          {stroke: colours.axis, grid: {stroke: colours.grid},
            values: function (u, splits, axis, space, increment) {
              return splits.map(function (seconds) {
                return module._tick(seconds, increment);
              });
            }},
          {stroke: colours.axis, grid: {stroke: colours.grid}, size: 64,
            label: this._('%(quantity)s in %(unit)s', {quantity: this.quantity, unit: unit}),
            values: function (u, splits) {
              return splits.map(function (value) {
                return module._number(value);
              });
            }}
        ],
        cursor: {drag: {x: false, y: false, setScale: false}},
        legend: {show: true},
        hooks: {
          drawClear: [function (u) {
            module._drawBands(u);
          }],
          draw: [function (u) {
            module._drawLines(u);
          }]
        }
      };
    },

    // The whole requested period, also when the readings cover only part of it.
    _xRange: function (min, max) {
      var payload = this.payload;
      if (payload && payload.start && payload.end) {
        return [Date.parse(payload.start) / 1000, Date.parse(payload.end) / 1000];
      }
      return [min, max];
    },

    _yRange: function (min, max) {
      var values = [];
      if (min != null && isFinite(min)) {
        values.push(min);
      }
      if (max != null && isFinite(max)) {
        values.push(max);
      }
      var thresholds = (this.payload && this.payload.thresholds) || {};
      var levels = thresholds.levels || {};
      LEVEL_KEYS.forEach(function (key) {
        if (levels[key] != null) {
          values.push(levels[key]);
        }
      });
      var lines = thresholds.reference_lines || {};
      RANGE_LINES.forEach(function (name) {
        if (lines[name] != null) {
          values.push(lines[name]);
        }
      });
      if (!values.length) {
        return [0, 100];
      }
      var low = Math.min.apply(null, values);
      var high = Math.max.apply(null, values);
      if (high - low < 1) {
        low -= 10;
        high += 10;
      }
      var pad = (high - low) * 0.08;
      return [low - pad, high + pad];
    },

    // Meldestufen as horizontal bands, each up to the next level (the highest up to the top).
    _drawBands: function (u) {
      var levels = (this.payload && this.payload.thresholds && this.payload.thresholds.levels) || {};
      var keys = LEVEL_KEYS.filter(function (key) {
        return levels[key] != null;
      });
      var colours = this._colours();
      var box = u.bbox;
      var ctx = u.ctx;
      var ratio = window.uPlot.pxRatio || window.devicePixelRatio || 1;
      var drawn = [];
      ctx.save();
      ctx.beginPath();
      ctx.rect(box.left, box.top, box.width, box.height);
      ctx.clip();
      keys.forEach(function (key, index) {
        var bottom = Math.min(u.valToPos(levels[key], 'y', true), box.top + box.height);
        var next = keys[index + 1];
        var top = Math.max(next ? u.valToPos(levels[next], 'y', true) : box.top, box.top);
        if (bottom - top < 0.5) {
          return;
        }
        ctx.globalAlpha = colours.bandAlpha;
        ctx.fillStyle = colours.bands[key];
        ctx.fillRect(box.left, top, box.width, bottom - top);
        ctx.globalAlpha = 1;
        ctx.fillStyle = colours.bandText;
        ctx.font = Math.round(11 * ratio) + 'px system-ui, sans-serif';
        ctx.textBaseline = 'top';
        ctx.textAlign = 'left';
        if (bottom - top > 12 * ratio) {
          ctx.fillText(this._('Meldestufe %(level)s', {level: key}), box.left + 4 * ratio, top + 2 * ratio);
        }
        drawn.push(key);
      }, this);
      ctx.restore();
      this.root.setAttribute('data-drawn-bands', drawn.join(' '));
    },

    // Reference lines (MNW, MW, MHW, ...) dashed, labelled with name and value at the right.
    _drawLines: function (u) {
      var lines = (this.payload && this.payload.thresholds && this.payload.thresholds.reference_lines) || {};
      var unit = (this.payload && this.payload.unit) || '';
      var colours = this._colours();
      var box = u.bbox;
      var ctx = u.ctx;
      var ratio = window.uPlot.pxRatio || window.devicePixelRatio || 1;
      var drawn = [];
      ctx.save();
      ctx.font = Math.round(11 * ratio) + 'px system-ui, sans-serif';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      REFERENCE_LINES.forEach(function (name) {
        if (lines[name] == null) {
          return;
        }
        var y = Math.round(u.valToPos(lines[name], 'y', true)) + 0.5;
        if (y < box.top || y > box.top + box.height) {
          return;
        }
        ctx.strokeStyle = colours.reference;
        ctx.lineWidth = ratio;
        ctx.setLineDash([6 * ratio, 4 * ratio]);
        ctx.beginPath();
        ctx.moveTo(box.left, y);
        ctx.lineTo(box.left + box.width, y);
        ctx.stroke();
        ctx.fillStyle = colours.reference;
        ctx.fillText(name + ' ' + this._number(lines[name]) + ' ' + unit,
          box.left + box.width - 4 * ratio, y - 2 * ratio);
        drawn.push(name);
      }, this);
      ctx.restore();
      this.root.setAttribute('data-drawn-lines', drawn.join(' '));
    },

    // Colours come from custom properties: the chart's in pegel-chart.css, the Meldestufen from the palette
    // shared with the dashboard (pegel-dashboard.css), so map and chart use the same colours.
    _colours: function () {
      if (this.palette) {
        return this.palette;
      }
      var style = window.getComputedStyle(this.root);
      var read = function (name, fallback) {
        return style.getPropertyValue(name).trim() || fallback;
      };
      this.palette = {
        line: read('--pegel-chart-line', '#1c5d99'),
        range: read('--pegel-chart-range', 'rgba(28, 93, 153, 0.35)'),
        rangeFill: read('--pegel-chart-range-fill', 'rgba(28, 93, 153, 0.15)'),
        axis: read('--pegel-chart-axis', '#333'),
        grid: read('--pegel-chart-grid', 'rgba(0, 0, 0, 0.08)'),
        reference: read('--pegel-chart-reference', '#444'),
        bandText: read('--pegel-chart-band-text', '#333'),
        bandAlpha: Number(read('--pegel-chart-band-alpha', '0.22')) || 0.22,
        bands: {
          1: read('--pegel-color-meldestufe_1', '#f2c200'),
          2: read('--pegel-color-meldestufe_2', '#f08c00'),
          3: read('--pegel-color-meldestufe_3', '#e03131'),
          4: read('--pegel-color-meldestufe_4', '#862e9c')
        }
      };
      return this.palette;
    },

    // Formatting (the same formats as preview.py on the server)

    _number: function (value) {
      return value == null ? '\u2013' : this.numbers.format(value);
    },

    _time: function (value) {
      return this.dateTime.format(new Date(typeof value === 'string' ? Date.parse(value) : value));
    },

    _tick: function (seconds, increment) {
      var date = new Date(seconds * 1000);
      var time = this.tickTime.format(date);
      if (increment >= DAY || time === '00:00') {
        return this.tickDay.format(date);
      }
      return time;
    },

    _ago: function (minutes) {
      minutes = Math.max(0, Math.floor(minutes || 0));
      if (minutes < 120) {
        return this.ngettext('%(num)d minute ago', '%(num)d minutes ago', minutes);
      }
      var hours = Math.floor(minutes / 60);
      if (hours < 48) {
        return this.ngettext('%(num)d hour ago', '%(num)d hours ago', hours);
      }
      var days = Math.floor(hours / 24);
      return this.ngettext('%(num)d day ago', '%(num)d days ago', days);
    },

    _width: function () {
      return Math.max(280, Math.floor(this.plot.clientWidth || this.root.clientWidth || 600));
    },

    _element: function (name, className, text) {
      var element = document.createElement(name);
      if (className) {
        element.className = className;
      }
      if (text != null) {
        element.textContent = text;
      }
      return element;
    }
  };
});
