/* The Pegel dashboard and the municipality widget: a Leaflet map with one circle marker per station, coloured by
 * the warning class the server computed (pegel_status level.class, palette in pegel-dashboard.css), and the list
 * of stations, refreshed by polling pegel_status (paused while the page is hidden).
 *
 * The server renders the first list and passes the stations as JSON (script.pegel-stations-data), so nothing
 * is fetched on load. The filter select (dashboard only) reloads the stations of one municipality without leaving the page
 * and keeps `?kommune=<name>` in the address, as the form does without JavaScript.
 */
ckan.module("pegel-dashboard", function ($) {
  "use strict";

  var TREND_ARROWS = {rising: "\u2197", falling: "\u2198", steady: "\u2192"};
  // Rhineland-Palatinate and Saarland, when no station has coordinates.
  var DEFAULT_CENTER = [49.75, 7.2];
  var DEFAULT_ZOOM = 7;

  // ckan.module parses each data-module-* attribute as JSON and turns an empty one into `true`.
  function text(value) {
    return typeof value === "string" || typeof value === "number" ? String(value) : "";
  }

  return {
    options: {
      organization: "",
      apiUrl: "",
      datasetUrl: "",
      dashboardUrl: "",
      tileUrl: "",
      attribution: "",
      refresh: 60,
      compact: false
    },

    initialize: function () {
      $.proxyAll(this, /_on/);
      this.organization = text(this.options.organization);
      this.tileUrl = text(this.options.tileUrl);
      this.language = document.documentElement.lang || "de";
      this.timeFormat = new Intl.DateTimeFormat(this.language, {
        timeZone: "Europe/Berlin", day: "2-digit", month: "2-digit", year: "numeric",
        hour: "2-digit", minute: "2-digit"
      });
      this.numberFormat = new Intl.NumberFormat(this.language, {maximumFractionDigits: 1});
      this.list = this.$(".pegel-station-list");
      this.empty = this.$(".pegel-empty");
      this.status = this.$(".pegel-update-status");
      this.select = this.$("select[name=kommune]");
      this.timer = null;
      this.request = null;

      this._createMap();
      this._drawMarkers(this._initialStations(), true);

      this.select.on("change", this._onFilter);
      this.$(".pegel-filter-submit").addClass("d-none");
      document.addEventListener("visibilitychange", this._onVisibility);
      this._schedule();
    },

    teardown: function () {
      window.clearTimeout(this.timer);
      this.timer = null;
      if (this.request) {
        this.request.abort();
      }
      document.removeEventListener("visibilitychange", this._onVisibility);
      this.select.off("change", this._onFilter);
      if (this.map) {
        this.map.remove();
        this.map = null;
      }
    },

    _initialStations: function () {
      try {
        var stations = JSON.parse(this.$(".pegel-stations-data").text() || "[]");
        return Array.isArray(stations) ? stations : [];
      } catch (error) {
        return [];
      }
    },

    _createMap: function () {
      var container = this.$(".pegel-map")[0];
      this.map = null;
      if (!container || typeof L === "undefined") {
        return;
      }
      this.map = L.map(container, {scrollWheelZoom: false, zoomControl: false, attributionControl: Boolean(this.tileUrl)});
      L.control.zoom({zoomInTitle: this._("Zoom in"), zoomOutTitle: this._("Zoom out")}).addTo(this.map);
      if (this.tileUrl) {
        // Only a tile server the operator configured: without one no request leaves our host.
        L.tileLayer(this.tileUrl, {attribution: text(this.options.attribution), maxZoom: 18}).addTo(this.map);
        this.map.attributionControl.setPrefix(false);
      }
      this.markers = L.featureGroup().addTo(this.map);
      this.map.setView(DEFAULT_CENTER, DEFAULT_ZOOM);
    },

    _schedule: function () {
      window.clearTimeout(this.timer);
      this.timer = null;
      if (!document.hidden) {
        this.timer = window.setTimeout(this._onTimer, Math.max(10, Number(this.options.refresh) || 60) * 1000);
      }
    },

    _onTimer: function () {
      this._refresh(false);
    },

    _onVisibility: function () {
      if (document.hidden) {
        window.clearTimeout(this.timer);
        this.timer = null;
      } else {
        this._refresh(false);
      }
    },

    _onFilter: function () {
      this.organization = text(this.select.val());
      this.$(".pegel-notice").remove();
      if (window.history && window.history.replaceState && text(this.options.dashboardUrl)) {
        var url = text(this.options.dashboardUrl) +
          (this.organization ? "?kommune=" + encodeURIComponent(this.organization) : "");
        window.history.replaceState(null, "", url);
      }
      this._refresh(true);
    },

    _refresh: function (fit) {
      var module = this;
      if (this.request) {
        this.request.abort();
      }
      window.clearTimeout(this.timer);
      var query = this.organization ? "?organization=" + encodeURIComponent(this.organization) : "";
      this.el.attr("aria-busy", "true");
      this.request = $.ajax({url: text(this.options.apiUrl) + query, dataType: "json", cache: false});
      this.request
        .done(function (response) {
          var stations = response && response.result && response.result.stations;
          if (!Array.isArray(stations)) {
            module._failed();
            return;
          }
          module._drawMarkers(stations, fit);
          module._drawList(stations);
          module.status.removeClass("pegel-error")
            .text(module._("Updated at %(time)s", {time: module.timeFormat.format(new Date())}));
          module.el.attr("data-updated", new Date().toISOString());
        })
        .fail(function (xhr, textStatus) {
          if (textStatus !== "abort") {
            module._failed();
          }
        })
        .always(function () {
          module.request = null;
          module.el.removeAttr("aria-busy");
          module._schedule();
        });
    },

    _failed: function () {
      this.status.addClass("pegel-error")
        .text(this._("The water levels could not be updated; the list shows the last known values."));
    },

    _drawMarkers: function (stations, fit) {
      if (!this.map) {
        return;
      }
      var module = this;
      this.markers.clearLayers();
      $.each(stations, function (index, station) {
        var point = station.coordinates;
        if (!point || point.length < 2 || !isFinite(point[0]) || !isFinite(point[1])) {
          return;
        }
        var marker = L.circleMarker([point[1], point[0]], {
          radius: 9,
          className: "pegel-marker " + module._levelClass(station) + (station.stale ? " pegel-stale" : "")
        });
        marker.bindPopup(function () { return module._popup(station); });
        marker.bindTooltip(station.dataset.title || station.dataset.name);
        marker.addTo(module.markers);
        var element = marker.getElement();
        if (element) {
          element.setAttribute("data-station", station.station);
        }
      });
      if (fit) {
        var bounds = this.markers.getBounds();
        if (bounds.isValid()) {
          // No animation: a zoom animation running while the page settles leaves markers scaled up.
          this.map.fitBounds(bounds, {padding: [24, 24], maxZoom: 11, animate: false});
        } else {
          this.map.setView(DEFAULT_CENTER, DEFAULT_ZOOM, {animate: false});
        }
      }
    },

    _levelClass: function (station) {
      var level = (station.level && station.level["class"]) || "unknown";
      return "pegel-level-" + String(level).replace(/[^a-z0-9_]/gi, "");
    },

    _datasetUrl: function (station) {
      return text(this.options.datasetUrl).replace("__NAME__", encodeURIComponent(station.dataset.name));
    },

    _value: function (latest) {
      if (!latest || latest.value === null || latest.value === undefined) {
        return "";
      }
      return this.numberFormat.format(Math.round(latest.value * 10) / 10) + (latest.unit ? " " + latest.unit : "");
    },

    _time: function (iso) {
      var time = iso ? new Date(iso) : null;
      return time && !isNaN(time.getTime()) ? this.timeFormat.format(time) : "";
    },

    _age: function (minutes) {
      if (minutes === null || minutes === undefined) {
        return "";
      }
      if (minutes < 1) {
        return this._("just now");
      }
      if (minutes < 60) {
        return this._("%(minutes)s min ago", {minutes: Math.floor(minutes)});
      }
      if (minutes < 48 * 60) {
        return this._("%(hours)s h ago", {hours: Math.floor(minutes / 60)});
      }
      var days = Math.floor(minutes / (24 * 60));
      return this.ngettext("%(num)d day ago", "%(num)d days ago", days);
    },

    _badge: function (station) {
      return $("<span>").addClass("pegel-badge " + this._levelClass(station)).text(station.level.label);
    },

    _trend: function (station) {
      var cell = $("<span>");
      if (station.trend) {
        cell.append($("<span aria-hidden='true'>").text(TREND_ARROWS[station.trend] || ""), " ",
                    document.createTextNode(station.trend_label || ""));
      }
      return cell.contents();
    },

    _popup: function (station) {
      var box = $("<div class='pegel-popup'>");
      box.append($("<a class='pegel-popup-title'>").attr("href", this._datasetUrl(station))
        .text(station.dataset.title || station.dataset.name));
      var facts = $("<dl>");
      var add = function (term, description) {
        if (description !== "" && description !== null && description !== undefined) {
          facts.append($("<dt>").text(term), $("<dd>").append(description));
        }
      };
      add(this._("Water"), station.water || "");
      add(this._("Municipality"), (station.organization && (station.organization.title || station.organization.name)) || "");
      add(this._("Water level"), this._value(station.latest) || this._("No reading yet"));
      if (station.latest) {
        add(this._("Measured"), this._time(station.latest.time) +
          (station.stale ? " (" + this._("out of date") + ")" : ""));
      }
      if (station.trend) {
        add(this._("Trend"), this._trend(station));
      }
      add(this._("Warning level"), this._badge(station));
      box.append(facts);
      box.append($("<a>").attr("href", this._datasetUrl(station)).text(this._("To the dataset")));
      return box[0];
    },

    _drawList: function (stations) {
      var module = this;
      var rows = $.map(stations, function (station) {
        var row = $("<tr>").addClass("pegel-station " + module._levelClass(station))
          .toggleClass("pegel-stale", Boolean(station.stale))
          .attr("data-station", station.station);
        var name = $("<td class='pegel-name'>").append(
          $("<a>").attr("href", module._datasetUrl(station)).text(station.dataset.title || station.dataset.name));
        if (station.water) {
          name.append("<br>", $("<small class='text-muted'>").text(station.water));
        }
        if (station.private) {
          name.append(" ", $("<span class='badge bg-secondary'>").text(module._("Private")));
        }
        row.append(name);
        if (module.options.compact !== true) {
          row.append($("<td class='pegel-organization'>").text(
            (station.organization && (station.organization.title || station.organization.name)) || ""));
        }
        row.append($("<td class='pegel-value'>").text(module._value(station.latest) || "\u2013"));
        row.append($("<td class='pegel-trend'>").append(module._trend(station)));
        row.append($("<td>").append(module._badge(station)));
        var age = $("<td class='pegel-age'>");
        if (station.latest) {
          age.append($("<time>").attr({datetime: station.latest.time, title: module._time(station.latest.time)})
            .text(module._age(station.age_minutes)));
        } else {
          age.text(module._("No reading yet"));
        }
        if (station.stale) {
          age.append(" ", $("<span class='pegel-stale-badge'>").text(module._("out of date")));
        }
        row.append(age);
        return row[0];
      });
      this.list.empty().append(rows);
      this.empty.prop("hidden", stations.length > 0);
    }
  };
});
