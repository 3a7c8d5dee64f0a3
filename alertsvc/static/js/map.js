/*
 * map.js: progressive enhancement of the server-rendered maps (geo/svg.py) with Leaflet.
 * Plain ES2017, no build step. Without JavaScript, or without Leaflet, the page keeps its inline SVG map and
 * every typed field: typing stays the primary way to give a place or an area (WCAG 2.5.7); the map only helps.
 *
 * Load (after the markup, or with `defer`):
 *   <link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">
 *   <script src="/static/vendor/leaflet/leaflet.js"></script>
 *   <script src="/static/js/map.js"></script>
 *
 * Markup contract (one figure per map):
 *   <figure class="app-map" data-map
 *           data-regions-url="/map/regions.geojson"       district outlines (GeoJSON, properties code and name)
 *           data-area='{GeoJSON geometry}'                the area to draw, lon/lat; "null" or absent: none
 *           data-selected="RS-00 RS-01"                   district codes to highlight (space-separated)
 *           [data-pick-lat="id-of-lat-input" data-pick-lon="id-of-lon-input"]
 *                                                         a click fills the two inputs (5 decimals) and sends an
 *                                                         `input` event from each; typing moves the marker
 *           [data-draw="id-of-textarea"]                  each click appends a "lat, lon" line (one vertex a
 *                                                         line) and redraws the polygon; "Undo last point" and
 *                                                         "Clear" buttons are added, labelled by
 *           [data-label-undo="..." data-label-clear="..."]  (translations; English by default)
 *           [data-regions-checkboxes="name-of-checkboxes"] a click on a district toggles the checkbox of that
 *                                                         name whose value is its code (and sends `change`); a
 *                                                         checkbox's change re-styles its district
 *           [data-label-map="..."]>                       accessible name of the interactive map (default: the
 *                                                         SVG's <title>)
 *     <svg ...server-rendered, role="img"...>
 *     <figcaption>...</figcaption>
 *   </figure>
 *
 * With Leaflet present, a <div class="app-leaflet"> is inserted before the SVG, and the SVG gets the class
 * govuk-visually-hidden (screen readers keep its title and description). No tile layer, ever: the map draws
 * the districts and the area only, and makes no request but the same-origin `fetch` of data-regions-url.
 * The page's own script can redraw the area: figure.dispatchEvent(new CustomEvent("app:area", {detail: geometry}))
 * with a GeoJSON geometry (or null to remove it).
 * No inline style is written (the pages' CSP): classes only; Leaflet positions its panes through el.style.
 */
(function () {
  "use strict";

  var L = window.L;
  if (!L || !L.map || !window.fetch || !document.querySelectorAll) {
    return; // the server-rendered SVG stays
  }

  var DISTRICT = "app-map__district";
  var SELECTED = "app-map__district--selected";

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function parseGeometry(text) {
    if (!text) {
      return null;
    }
    try {
      var value = typeof text === "string" ? JSON.parse(text) : text;
      return value && typeof value === "object" && value.type ? value : null;
    } catch (err) {
      return null;
    }
  }

  function fire(element, type) {
    element.dispatchEvent(new Event(type, { bubbles: true }));
  }

  function round5(value) {
    return (Math.round(value * 100000) / 100000).toFixed(5);
  }

  // "lat, lon" lines -> [[lat, lon], ...]; lines that are not two finite numbers are skipped
  function parseVertices(text) {
    var out = [];
    text.split(/\r?\n/).forEach(function (line) {
      var parts = line.split(/[,;\s]+/).filter(Boolean);
      if (parts.length === 2) {
        var lat = Number(parts[0]);
        var lon = Number(parts[1]);
        if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
          out.push([lat, lon]);
        }
      }
    });
    return out;
  }

  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text; // never innerHTML: district names are data
    return span;
  }

  function makeButton(label, onClick) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "govuk-button govuk-button--secondary";
    button.textContent = label;
    button.addEventListener("click", onClick);
    return button;
  }

  function enhance(figure) {
    if (figure.getAttribute("data-map-ready") === "true") {
      return;
    }
    figure.setAttribute("data-map-ready", "true");
    var svg = figure.querySelector("svg");
    var container = document.createElement("div");
    container.className = "app-leaflet";
    container.setAttribute("role", "group");
    var titleEl = svg ? svg.querySelector("title") : null;
    var label = figure.getAttribute("data-label-map") || (titleEl ? titleEl.textContent : "") || "Map";
    container.setAttribute("aria-label", label);
    figure.insertBefore(container, svg || figure.firstChild);

    var clicksAreInput = Boolean(figure.getAttribute("data-draw") || figure.getAttribute("data-pick-lat"));
    var map = L.map(container, {
      attributionControl: false,
      doubleClickZoom: !clicksAreInput, // two quick clicks are two points, not a zoom
      zoomSnap: 0.25,
      minZoom: 5,
      maxZoom: 14,
    });
    if (svg) {
      svg.classList.add("govuk-visually-hidden");
    }

    var selected = {};
    (figure.getAttribute("data-selected") || "").split(/\s+/).filter(Boolean).forEach(function (code) {
      selected[code] = true;
    });

    // -- districts ------------------------------------------------------------------------------------------
    var checkboxName = figure.getAttribute("data-regions-checkboxes");
    var checkboxes = {};
    if (checkboxName) {
      Array.prototype.forEach.call(document.querySelectorAll('input[type="checkbox"]'), function (input) {
        if (input.name === checkboxName) {
          checkboxes[input.value] = input;
          selected[input.value] = input.checked;
        }
      });
    }
    var districtLayers = {};
    var districts = null;

    function restyle(code) {
      var layer = districtLayers[code];
      var el = layer && layer.getElement ? layer.getElement() : null;
      if (el) {
        el.classList.toggle(SELECTED, Boolean(selected[code]));
      }
    }

    Object.keys(checkboxes).forEach(function (code) {
      checkboxes[code].addEventListener("change", function () {
        selected[code] = checkboxes[code].checked;
        restyle(code);
      });
    });

    // -- the area --------------------------------------------------------------------------------------------
    var areaLayer = null;

    function drawArea(geometry, fit) {
      if (areaLayer) {
        map.removeLayer(areaLayer);
        areaLayer = null;
      }
      if (!geometry) {
        return false;
      }
      try {
        areaLayer = L.geoJSON(geometry, {
          interactive: false,
          style: function () {
            return { className: "app-map__area", weight: 2, fillOpacity: 1 };
          },
        }).addTo(map);
      } catch (err) {
        areaLayer = null;
        return false;
      }
      var bounds = areaLayer.getBounds();
      if (fit && bounds.isValid()) {
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 11 });
      }
      return bounds.isValid();
    }

    var hasArea = drawArea(parseGeometry(figure.getAttribute("data-area")), true);
    figure.addEventListener("app:area", function (event) {
      drawArea(parseGeometry(event.detail), true);
    });

    // -- picking a point ---------------------------------------------------------------------------------------
    var latInput = byId(figure.getAttribute("data-pick-lat"));
    var lonInput = byId(figure.getAttribute("data-pick-lon"));
    var pickMarker = null;

    function placeMarker(lat, lon) {
      if (pickMarker) {
        pickMarker.setLatLng([lat, lon]);
      } else {
        pickMarker = L.circleMarker([lat, lon], {
          className: "app-map__point", radius: 6, fillOpacity: 1, interactive: false,
        });
        pickMarker.addTo(map);
      }
    }

    if (latInput && lonInput) {
      var typed = function () {
        var lat = Number(latInput.value.replace(",", "."));
        var lon = Number(lonInput.value.replace(",", "."));
        if (latInput.value !== "" && lonInput.value !== "" && isFinite(lat) && isFinite(lon)) {
          placeMarker(lat, lon);
        }
      };
      latInput.addEventListener("input", typed);
      lonInput.addEventListener("input", typed);
      typed();
    }

    // -- drawing a polygon ---------------------------------------------------------------------------------------
    var drawInput = byId(figure.getAttribute("data-draw"));
    var drawLayer = null;

    function redraw() {
      if (drawLayer) {
        map.removeLayer(drawLayer);
        drawLayer = null;
      }
      var vertices = parseVertices(drawInput.value);
      var options = { className: "app-map__area", weight: 2, fillOpacity: 1, interactive: false };
      if (vertices.length >= 3) {
        drawLayer = L.polygon(vertices, options);
      } else if (vertices.length === 2) {
        drawLayer = L.polyline(vertices, options);
      } else if (vertices.length === 1) {
        drawLayer = L.circleMarker(vertices[0], {
          className: "app-map__point", radius: 4, fillOpacity: 1, interactive: false,
        });
      }
      if (drawLayer) {
        drawLayer.addTo(map);
      }
      return vertices;
    }

    function setDrawText(text) {
      drawInput.value = text;
      fire(drawInput, "input");
      fire(drawInput, "change");
    }

    if (drawInput) {
      var controls = document.createElement("div");
      controls.className = "app-map__controls govuk-button-group";
      controls.appendChild(makeButton(figure.getAttribute("data-label-undo") || "Undo last point", function () {
        var lines = drawInput.value.split(/\r?\n/);
        while (lines.length && !lines[lines.length - 1].trim()) {
          lines.pop();
        }
        lines.pop();
        setDrawText(lines.length ? lines.join("\n") + "\n" : "");
      }));
      controls.appendChild(makeButton(figure.getAttribute("data-label-clear") || "Clear", function () {
        setDrawText("");
      }));
      container.parentNode.insertBefore(controls, container.nextSibling);
      drawInput.addEventListener("input", redraw);
      var drawn = redraw();
      if (!hasArea && drawn.length >= 2 && drawLayer && drawLayer.getBounds) {
        map.fitBounds(drawLayer.getBounds(), { padding: [24, 24], maxZoom: 11 });
        hasArea = true;
      }
    }

    // -- clicks ---------------------------------------------------------------------------------------------
    map.on("click", function (event) {
      var lat = event.latlng.lat;
      var lon = event.latlng.lng;
      if (latInput && lonInput) {
        latInput.value = round5(lat);
        lonInput.value = round5(lon);
        fire(latInput, "input");
        fire(lonInput, "input");
        fire(latInput, "change");
        fire(lonInput, "change");
      }
      if (drawInput) {
        var text = drawInput.value;
        if (text && !/\n$/.test(text)) {
          text += "\n";
        }
        setDrawText(text + round5(lat) + ", " + round5(lon) + "\n");
      }
    });

    // -- load the districts --------------------------------------------------------------------------------------
    var url = figure.getAttribute("data-regions-url");
    if (!hasArea) {
      map.setView([44.0, 20.9], 6); // until the districts arrive (they fit the view)
    }
    if (!url) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("regions: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (geojson) {
        var interactive = Object.keys(checkboxes).length > 0;
        districts = L.geoJSON(geojson, {
          interactive: interactive,
          style: function (feature) {
            var code = feature.properties.code;
            return { className: DISTRICT + (selected[code] ? " " + SELECTED : ""), weight: 1, fillOpacity: 1 };
          },
          onEachFeature: function (feature, layer) {
            var code = feature.properties.code;
            districtLayers[code] = layer;
            if (interactive && checkboxes[code]) {
              layer.bindTooltip(textNode(feature.properties.name), { sticky: true });
              layer.on("click", function () {
                var box = checkboxes[code];
                box.checked = !box.checked;
                fire(box, "input");
                fire(box, "change");
              });
            }
          },
        }).addTo(map);
        districts.bringToBack();
        Object.keys(districtLayers).forEach(function (code) {
          var el = districtLayers[code].getElement ? districtLayers[code].getElement() : null;
          if (el) {
            el.setAttribute("data-code", code); // as on the server-rendered SVG's paths
          }
        });
        figure.setAttribute("data-map-districts", String(Object.keys(districtLayers).length));
        if (!hasArea && districts.getBounds().isValid()) {
          map.fitBounds(districts.getBounds(), { padding: [8, 8] });
        }
      })
      .catch(function () {
        if (!hasArea && !drawInput && !(latInput && lonInput)) {
          // nothing to show nor to do on an empty Leaflet map: give the page its SVG back
          map.remove();
          container.parentNode.removeChild(container);
          if (svg) {
            svg.classList.remove("govuk-visually-hidden");
          }
        }
      });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), enhance);
})();
