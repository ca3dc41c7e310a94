// 城市运营中心 page script: the district map (MapLibre GL JS) and the population chart
// (ECharts), drawn from this server's own JSON endpoints.
//
// Nothing is fetched from anywhere else: the map style is an inline object with a plain
// background and our GeoJSON sources, no tiles, sprites or glyphs. District names are
// HTML markers, because map text layers would need glyph (font) files from a server.
// Every user-visible string comes translated from the page (the #ops-config JSON).

const config = JSON.parse(document.getElementById("ops-config").textContent);
const text = config.text;
const english = config.locale === "en";
const integerFormat = new Intl.NumberFormat(config.languageTag);
const compactFormat = new Intl.NumberFormat(config.languageTag, {
  notation: "compact",
  maximumFractionDigits: 1,
});
const areaFormat = new Intl.NumberFormat(config.languageTag, {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

// Eleven colours that stay apart for common colour-vision deficiencies and keep dark
// outlines and labels readable on top of them.
const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
  "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6", "#8cd17d",
];

// The page's state, also reachable from the console and from browser tests.
const page = {
  districts: [],
  byCode: new Map(),
  selectedCode: null,
  map: null,
  chart: null,
  ready: null,
};
window.smartcityOps = page;

let markReady;
page.ready = new Promise((resolve) => {
  markReady = resolve;
});

function showStatus(id, message) {
  const element = document.getElementById(id);
  element.textContent = message;
  element.hidden = false;
}

async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      // Not a problem document; the status line says enough.
    }
    throw new Error(`${url}: ${detail}`);
  }
  return response.json();
}

function displayName(district) {
  return english ? district.nameEnglish : district.name;
}

function otherName(district) {
  return english ? district.name : district.nameEnglish;
}

// Every [lon, lat] of a Polygon or MultiPolygon.
function* coordinates(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  for (const polygon of polygons) {
    for (const ring of polygon) {
      yield* ring;
    }
  }
}

function boundsOf(geometries) {
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  for (const geometry of geometries) {
    for (const [lon, lat] of coordinates(geometry)) {
      west = Math.min(west, lon);
      east = Math.max(east, lon);
      south = Math.min(south, lat);
      north = Math.max(north, lat);
    }
  }
  return [[west, south], [east, north]];
}

// The area-weighted centroid of a ring (shoelace formula), with its area.
function ringCentroid(ring) {
  let twiceArea = 0;
  let x = 0;
  let y = 0;
  for (let index = 0; index < ring.length - 1; index += 1) {
    const [x0, y0] = ring[index];
    const [x1, y1] = ring[index + 1];
    const cross = x0 * y1 - x1 * y0;
    twiceArea += cross;
    x += (x0 + x1) * cross;
    y += (y0 + y1) * cross;
  }
  if (twiceArea === 0) {
    return { area: 0, point: ring[0] };
  }
  return { area: Math.abs(twiceArea / 2), point: [x / (3 * twiceArea), y / (3 * twiceArea)] };
}

// Where a district's name goes: the centroid of its largest part.
function labelPoint(district) {
  if (!district.labelPoint) {
    const geometry = district.feature.geometry;
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    let best = { area: -1, point: district.bounds[0] };
    for (const polygon of polygons) {
      const candidate = ringCentroid(polygon[0]);
      if (candidate.area > best.area) {
        best = candidate;
      }
    }
    district.labelPoint = best.point;
  }
  return district.labelPoint;
}

function buildDistricts(districtCollection, streetCollection, population) {
  const populationByCode = new Map(population.map((row) => [row.code, row]));
  const features = [...districtCollection.features].sort((a, b) =>
    a.properties.code.localeCompare(b.properties.code),
  );
  page.districts = features.map((feature, index) => {
    const properties = feature.properties;
    const statistics = populationByCode.get(properties.code) || {};
    const color = PALETTE[index % PALETTE.length];
    // The map colours each district from this property.
    properties.color = color;
    return {
      code: properties.code,
      name: properties.name ?? statistics.name ?? properties.code,
      nameEnglish: properties.name_en ?? statistics.name_en ?? properties.code,
      population: statistics.population ?? 0,
      areaKm2: Number.isFinite(properties.area_km2) ? properties.area_km2 : null,
      streets: 0,
      color,
      feature,
      bounds: boundsOf([feature.geometry]),
    };
  });
  page.byCode = new Map(page.districts.map((district) => [district.code, district]));
  for (const street of streetCollection.features) {
    const code = street.properties.parent_code ?? street.properties.code.slice(0, 6);
    const district = page.byCode.get(code);
    if (district) {
      district.streets += 1;
    }
  }
}

// ---------------------------------------------------------------- legend and table

function swatch(color) {
  const element = document.createElement("span");
  element.className = "ops-swatch";
  element.style.backgroundColor = color;
  element.setAttribute("aria-hidden", "true");
  return element;
}

function renderLegend() {
  const list = document.getElementById("ops-legend-list");
  list.replaceChildren();
  for (const district of page.districts) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "ops-legend__button";
    button.dataset.code = district.code;
    button.setAttribute("aria-pressed", "false");
    const name = document.createElement("span");
    name.className = "ops-legend__name";
    name.textContent = displayName(district);
    const value = document.createElement("span");
    value.className = "ops-legend__value";
    value.textContent = compactFormat.format(district.population);
    button.append(swatch(district.color), name, value);
    button.addEventListener("click", () => select(district.code, { zoom: true }));
    const item = document.createElement("li");
    item.append(button);
    list.append(item);
  }
}

function renderTable() {
  const body = document.getElementById("ops-table-body");
  body.replaceChildren();
  for (const district of page.districts) {
    const row = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = displayName(district);
    const code = document.createElement("td");
    code.textContent = district.code;
    const population = document.createElement("td");
    population.className = "number";
    population.textContent = integerFormat.format(district.population);
    row.append(name, code, population);
    body.append(row);
  }
}

function fact(term, value) {
  const wrapper = document.createElement("div");
  const termElement = document.createElement("dt");
  termElement.textContent = term;
  const valueElement = document.createElement("dd");
  valueElement.textContent = value;
  wrapper.append(termElement, valueElement);
  return wrapper;
}

function renderDetails(district) {
  const body = document.getElementById("ops-details-body");
  const heading = document.createElement("h3");
  heading.className = "ops-details__name";
  heading.append(swatch(district.color), document.createTextNode(displayName(district)));
  const other = document.createElement("span");
  other.className = "ops-details__other-name";
  other.lang = english ? "zh-CN" : "en";
  other.textContent = otherName(district);
  heading.append(other);
  const facts = document.createElement("dl");
  facts.className = "ops-facts";
  facts.append(fact(text.code, district.code));
  if (district.areaKm2 !== null) {
    facts.append(fact(text.area, `${areaFormat.format(district.areaKm2)} ${text.squareKilometres}`));
  }
  facts.append(fact(text.population, `${integerFormat.format(district.population)} ${text.people}`));
  if (district.areaKm2) {
    const density = Math.round(district.population / district.areaKm2);
    facts.append(fact(text.density, `${integerFormat.format(density)} ${text.perSquareKilometre}`));
  }
  facts.append(fact(text.streets, integerFormat.format(district.streets)));
  body.replaceChildren(heading, facts);
}

// What the details panel shows before a district is chosen: the whole city.
function renderCitySummary() {
  const body = document.getElementById("ops-details-body");
  const heading = document.createElement("h3");
  heading.className = "ops-details__name";
  heading.textContent = text.cityOverview;
  const facts = document.createElement("dl");
  facts.className = "ops-facts";
  const total = (pick) => page.districts.reduce((sum, district) => sum + pick(district), 0);
  const population = total((district) => district.population);
  const area = total((district) => district.areaKm2 ?? 0);
  facts.append(fact(text.districts, integerFormat.format(page.districts.length)));
  facts.append(fact(text.streets, integerFormat.format(total((district) => district.streets))));
  facts.append(fact(text.population, `${integerFormat.format(population)} ${text.people}`));
  if (area > 0) {
    facts.append(fact(text.area, `${integerFormat.format(Math.round(area))} ${text.squareKilometres}`));
  }
  const hint = document.createElement("p");
  hint.className = "ops-hint";
  hint.textContent = text.hint;
  body.replaceChildren(heading, facts, hint);
}

// ---------------------------------------------------------------- selection

function select(code, { zoom = false } = {}) {
  const district = page.byCode.get(code);
  if (!district) {
    return;
  }
  const previous = page.selectedCode;
  page.selectedCode = code;
  for (const button of document.querySelectorAll(".ops-legend__button")) {
    button.setAttribute("aria-pressed", String(button.dataset.code === code));
  }
  renderDetails(district);
  if (page.map) {
    if (previous) {
      page.map.setFeatureState({ source: "districts", id: previous }, { selected: false });
    }
    page.map.setFeatureState({ source: "districts", id: code }, { selected: true });
    if (zoom) {
      page.map.fitBounds(district.bounds, { padding: mapPadding(), maxZoom: 11, duration: 600 });
    }
  }
  if (page.chart) {
    const index = page.districts.indexOf(district);
    page.chart.dispatchAction({ type: "downplay", seriesIndex: 0 });
    page.chart.dispatchAction({ type: "highlight", seriesIndex: 0, dataIndex: index });
  }
}

// ---------------------------------------------------------------- chart

function renderChart() {
  const echarts = window.echarts;
  if (!echarts) {
    showStatus("ops-chart-status", text.chartLibraryMissing);
    return;
  }
  const element = document.getElementById("ops-chart");
  const chart = echarts.init(element, null, { renderer: "canvas", locale: english ? "EN" : "ZH" });
  page.chart = chart;
  const narrow = () => element.clientWidth < 560;
  const axisLabel = () => ({ interval: 0, rotate: narrow() ? 45 : 0, fontSize: 12 });
  chart.setOption({
    // ECharts writes a textual description of the data for screen readers.
    aria: { enabled: true },
    animationDuration: 400,
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: {
      trigger: "axis",
      axisPointer: { type: "shadow" },
      valueFormatter: (value) => `${integerFormat.format(value)} ${text.people}`,
    },
    xAxis: {
      type: "category",
      data: page.districts.map(displayName),
      axisLabel: axisLabel(),
      axisTick: { alignWithLabel: true },
    },
    yAxis: {
      type: "value",
      axisLabel: { formatter: (value) => compactFormat.format(value) },
    },
    series: [
      {
        type: "bar",
        name: text.population,
        barMaxWidth: 44,
        data: page.districts.map((district) => ({
          value: district.population,
          itemStyle: { color: district.color },
        })),
        emphasis: { itemStyle: { borderColor: "#1a2733", borderWidth: 2 } },
      },
    ],
  });
  chart.on("click", (event) => {
    const district = page.districts[event.dataIndex];
    if (district) {
      select(district.code, { zoom: true });
    }
  });
  new ResizeObserver(() => {
    chart.resize();
    chart.setOption({ xAxis: { axisLabel: axisLabel() } });
  }).observe(element);
}

// ---------------------------------------------------------------- map

function resetControl(cityBounds) {
  let container;
  return {
    onAdd(map) {
      container = document.createElement("div");
      container.className = "maplibregl-ctrl maplibregl-ctrl-group";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "ops-reset";
      button.title = text.resetView;
      button.setAttribute("aria-label", text.resetView);
      button.textContent = "⤢";
      button.addEventListener("click", () => map.fitBounds(cityBounds, { padding: mapPadding() }));
      container.append(button);
      return container;
    },
    onRemove() {
      container.remove();
    },
  };
}

// Keep the city clear of the legend, which floats over the map's left edge on wide
// screens, and of the zoom buttons on the right.
function mapPadding() {
  const legend = document.querySelector(".ops-legend");
  if (legend && getComputedStyle(legend).position === "absolute") {
    return { top: 24, bottom: 24, left: legend.offsetWidth + 32, right: 56 };
  }
  return { top: 16, bottom: 16, left: 16, right: 48 };
}

// Show a district's name only where it fits inside the district and clears the names
// already placed; larger districts are placed first, so the small central ones give way.
function fitLabels(map, labels) {
  const placed = [];
  for (const { district, element } of labels) {
    const [[west, south], [east, north]] = district.bounds;
    const topLeft = map.project([west, north]);
    const bottomRight = map.project([east, south]);
    const width = element.offsetWidth;
    const height = element.offsetHeight;
    const centre = map.project(labelPoint(district));
    const box = {
      left: centre.x - width / 2,
      right: centre.x + width / 2,
      top: centre.y - height / 2,
      bottom: centre.y + height / 2,
    };
    const fitsDistrict =
      bottomRight.x - topLeft.x > width * 0.9 && bottomRight.y - topLeft.y > height;
    const overlaps = placed.some(
      (other) =>
        box.left < other.right + 2 &&
        box.right > other.left - 2 &&
        box.top < other.bottom + 2 &&
        box.bottom > other.top - 2,
    );
    const visible = fitsDistrict && !overlaps;
    element.classList.toggle("ops-label--hidden", !visible);
    if (visible) {
      placed.push(box);
    }
  }
}

async function renderMap(districtCollection, streetCollection) {
  let maplibre;
  try {
    maplibre = await import(config.vendor.maplibre);
  } catch (error) {
    console.error(error);
    showStatus("ops-map-status", text.mapLibraryMissing);
    return;
  }
  const cityBounds = boundsOf(districtCollection.features.map((feature) => feature.geometry));
  let map;
  try {
    map = new maplibre.Map({
      container: "ops-map",
      style: {
        version: 8,
        sources: {
          districts: { type: "geojson", data: districtCollection, promoteId: "code" },
          streets: { type: "geojson", data: streetCollection },
        },
        layers: [
          { id: "background", type: "background", paint: { "background-color": "#e8eef3" } },
          {
            id: "district-fill",
            type: "fill",
            source: "districts",
            paint: {
              "fill-color": ["get", "color"],
              "fill-opacity": [
                "case",
                ["boolean", ["feature-state", "selected"], false], 0.95,
                ["boolean", ["feature-state", "hover"], false], 0.85,
                0.7,
              ],
            },
          },
          {
            id: "street-line",
            type: "line",
            source: "streets",
            paint: { "line-color": "#ffffff", "line-width": 0.6, "line-opacity": 0.75 },
          },
          {
            id: "district-line",
            type: "line",
            source: "districts",
            paint: {
              "line-color": "#1a2733",
              "line-width": [
                "case", ["boolean", ["feature-state", "selected"], false], 3, 1.2,
              ],
            },
          },
        ],
      },
      bounds: cityBounds,
      fitBoundsOptions: { padding: mapPadding() },
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      maxPitch: 0,
      renderWorldCopies: false,
      locale: {
        "NavigationControl.ZoomIn": text.zoomIn,
        "NavigationControl.ZoomOut": text.zoomOut,
      },
    });
  } catch (error) {
    console.error(error);
    showStatus("ops-map-status", text.webglMissing);
    return;
  }
  page.map = map;
  page.mapIdle = new Promise((resolve) => map.once("idle", resolve));
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibre.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(resetControl(cityBounds), "top-right");
  map.on("error", (event) => console.error(event.error));

  let hovered = null;
  const setHovered = (code) => {
    if (hovered === code) {
      return;
    }
    if (hovered) {
      map.setFeatureState({ source: "districts", id: hovered }, { hover: false });
    }
    hovered = code;
    if (hovered) {
      map.setFeatureState({ source: "districts", id: hovered }, { hover: true });
    }
    map.getCanvas().style.cursor = hovered ? "pointer" : "";
  };
  map.on("mousemove", "district-fill", (event) => setHovered(event.features[0]?.id ?? null));
  map.on("mouseleave", "district-fill", () => setHovered(null));
  map.on("click", "district-fill", (event) => {
    const code = event.features[0]?.properties.code;
    if (code) {
      select(code);
    }
  });

  const bySize = [...page.districts].sort(
    (a, b) => (b.areaKm2 ?? 0) - (a.areaKm2 ?? 0) || a.code.localeCompare(b.code),
  );
  const labels = bySize.map((district) => {
    const element = document.createElement("div");
    element.className = "ops-label";
    element.textContent = displayName(district);
    element.setAttribute("aria-hidden", "true");
    new maplibre.Marker({ element, anchor: "center" }).setLngLat(labelPoint(district)).addTo(map);
    return { district, element };
  });
  map.on("move", () => fitLabels(map, labels));
  map.once("load", () => fitLabels(map, labels));
  await page.mapIdle;
}

// ---------------------------------------------------------------- start

async function start() {
  let districtCollection;
  let streetCollection;
  let population;
  try {
    [districtCollection, streetCollection, population] = await Promise.all([
      fetchJson(config.endpoints.districts),
      fetchJson(config.endpoints.streets),
      fetchJson(config.endpoints.population),
    ]);
  } catch (error) {
    console.error(error);
    showStatus("ops-map-status", `${text.loadFailed}${error.message}`);
    markReady(page);
    return;
  }
  buildDistricts(districtCollection, streetCollection, population);
  renderLegend();
  renderTable();
  renderCitySummary();
  try {
    renderChart();
  } catch (error) {
    console.error(error);
    showStatus("ops-chart-status", `${text.loadFailed}${error.message}`);
  }
  await renderMap(districtCollection, streetCollection);
  markReady(page);
}

start();
