/**
 * Home Monitor history card: years of readings from Home Monitor's history store.
 *
 * One ES module, no build step, no library: Home Assistant loads it on every dashboard
 * (the integration registers it as an extra module). It asks the store through the
 * websocket command `home_monitor/history` for at most `buckets` downsampled buckets per
 * series ([start ms, min, mean, max, count]; an empty bucket is left out) and draws, by
 * hand in SVG, one panel per unit with a line per series (the mean), its min/max band,
 * breaks where there were no readings, and optionally the same range a year or a week
 * earlier as a dashed line. Colours come from the Home Assistant theme.
 */

const CARD = "home-monitor-history-card";
const EDITOR = `${CARD}-editor`;
const RANGES = { "24h": 864e5, "7d": 7 * 864e5, "30d": 30 * 864e5, "1y": 365 * 864e5 };
const RANGE_LABELS = { "24h": "24 h", "7d": "7 d", "30d": "30 d", "1y": "1 y" };
const COMPARE_LABELS = { year: "a year earlier", week: "a week earlier" };
const REFRESH_MS = 60_000;
const PANEL_HEIGHT = 180;
const PAD = { left: 46, right: 12, top: 20, bottom: 24 };
const SVG_NS = "http://www.w3.org/2000/svg";
const FALLBACK_COLORS = [
  "#4269d0", "#f4bd4a", "#ff725c", "#6cc5b0", "#3ca951",
  "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e", "#9498a0",
];

/** A date and time from the config ("2026-01-01 00:00:00" as the editor writes it, or ISO). */
const parseTime = (value) => new Date(String(value).trim().replace(" ", "T"));

const color = (index) =>
  `var(--graph-color-${(index % 15) + 1}, ${FALLBACK_COLORS[index % FALLBACK_COLORS.length]})`;

const escapeHtml = (text) =>
  String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** About `count` round tick values covering [low, high]. */
function niceTicks(low, high, count = 4) {
  if (!(high > low)) {
    const pad = Math.abs(low) * 0.05 || 1;
    low -= pad;
    high += pad;
  }
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks = [];
  for (let v = Math.floor(low / step) * step; v <= high + step * 1e-9; v += step) {
    ticks.push(Number(v.toFixed(10)));
  }
  if (ticks[ticks.length - 1] < high) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

/** The time ticks of a range, and how to label them. */
function timeTicks(start, end, width) {
  const span = end - start;
  const hour = 36e5;
  const day = 24 * hour;
  const steps = [hour, 2 * hour, 3 * hour, 6 * hour, 12 * hour, day, 2 * day, 7 * day, 14 * day];
  const wanted = Math.max(2, Math.floor(width / 90));
  const ticks = [];
  let kind;
  if (span <= 3 * day) kind = "time";
  else if (span <= 120 * day) kind = "day";
  else kind = "month";
  if (kind === "month") {
    const first = new Date(start);
    const month = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1));
    const months = Math.ceil(span / (30.4 * day));
    const every = Math.max(1, Math.ceil(months / wanted));
    for (let d = month; d.getTime() <= end; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + every, 1))) {
      ticks.push(d.getTime());
    }
  } else {
    const step = steps.find((s) => span / s <= wanted) ?? 30 * day;
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  }
  return { ticks, kind };
}

class HomeMonitorHistoryCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._data = null;
    this._compare = null;
    this._error = null;
    this._loading = false;
    this._requested = 0;
    this._fetchedAt = 0;
    this._range = null;
    this._width = 0;
  }

  static getConfigElement() {
    return document.createElement(EDITOR);
  }

  static getStubConfig(hass) {
    const ours = Object.values(hass?.entities ?? {}).filter(
      (e) => e.platform === "home_monitor" && !e.entity_category,
    );
    const numeric = ours.filter((e) => !Number.isNaN(Number(hass.states[e.entity_id]?.state)));
    const pick = numeric.find((e) => e.entity_id.includes("temperature")) ?? numeric[0] ?? ours[0];
    return { entities: pick ? [pick.entity_id] : [], range: "7d" };
  }

  setConfig(config) {
    if (!config) throw new Error("Invalid configuration");
    const has = (key) => Array.isArray(config[key]) && config[key].length > 0;
    if (!has("entities") && !has("devices") && !has("areas") && !has("series")) {
      throw new Error("Pick at least one entity, device or area (entities, devices, areas or series)");
    }
    const range = config.range ?? "7d";
    if (range !== "custom" && !(range in RANGES)) {
      throw new Error(`range must be one of ${[...Object.keys(RANGES), "custom"].join(", ")}`);
    }
    if (range === "custom") {
      const [start, end] = [parseTime(config.start), parseTime(config.end)];
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end) {
        throw new Error("A custom range needs a start before its end (for example 2026-01-01 00:00)");
      }
    }
    if (config.compare && !(config.compare in COMPARE_LABELS)) {
      throw new Error("compare must be year or week");
    }
    const changed = JSON.stringify(config) !== JSON.stringify(this._config);
    this._config = { ...config, range };
    this._range = null;
    if (changed && this._hass) this._fetch();
    this._render();
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (!this._config) return;
    if (first) {
      this._fetch();
      return;
    }
    // New readings: the entities drawn changed since the last answer; at most once a minute.
    if (this._currentRange() === "custom" || this._loading) return;
    if (Date.now() - this._fetchedAt < REFRESH_MS) return;
    const seen = this._data?.series ?? [];
    const updated = seen.some((s) => {
      const state = s.entity_id && hass.states[s.entity_id];
      return state && Date.parse(state.last_updated) > this._fetchedAt;
    });
    if (updated) this._fetch();
  }

  get hass() {
    return this._hass;
  }

  /** In a sections view: the full width by default, at least half of it. */
  getGridOptions() {
    return { columns: 12, min_columns: 6 };
  }

  getCardSize() {
    return 2 + 4 * Math.max(1, this._groups().length);
  }

  connectedCallback() {
    this._resize ??= new ResizeObserver(() => {
      const width = this.shadowRoot.querySelector(".panels")?.clientWidth ?? 0;
      if (width && Math.abs(width - this._width) > 2) this._render();
    });
    this._resize.observe(this);
  }

  disconnectedCallback() {
    this._resize?.disconnect();
  }

  _currentRange() {
    return this._range ?? this._config.range;
  }

  _window() {
    const range = this._currentRange();
    if (range === "custom") {
      return { start: parseTime(this._config.start), end: parseTime(this._config.end) };
    }
    const end = new Date();
    return { start: new Date(end.getTime() - RANGES[range]), end };
  }

  _query(start, end) {
    const c = this._config;
    const query = { type: "home_monitor/history", start: start.toISOString(), end: end.toISOString() };
    for (const key of ["entities", "devices", "areas"]) {
      if (c[key]?.length) query[{ entities: "entity_ids", devices: "device_ids", areas: "area_ids" }[key]] = c[key];
    }
    // Series by their store key: devices no longer in Home Assistant keep their history.
    if (c.series?.length) query.series = c.series.map(({ device_key, metric }) => ({ device_key, metric }));
    if (c.metrics?.length) query.metrics = c.metrics;
    query.buckets = Math.max(1, Math.min(1000, Number(c.buckets) || 500));
    return query;
  }

  async _fetch() {
    if (!this._hass || !this._config) return;
    const request = ++this._requested;
    const { start, end } = this._window();
    this._loading = true;
    this._fetchedAt = Date.now();
    try {
      const main = this._hass.callWS(this._query(start, end));
      let compare = null;
      if (this._config.compare) {
        const shift = (date) => {
          const d = new Date(date);
          if (this._config.compare === "year") d.setFullYear(d.getFullYear() - 1);
          else d.setDate(d.getDate() - 7);
          return d;
        };
        compare = this._hass.callWS(this._query(shift(start), shift(end)));
      }
      const [data, earlier] = await Promise.all([main, compare]);
      if (request !== this._requested) return;
      this._data = data;
      this._compare = earlier;
      this._error = null;
    } catch (err) {
      if (request !== this._requested) return;
      this._error = err?.message ?? String(err);
    } finally {
      if (request === this._requested) this._loading = false;
    }
    this._render();
  }

  /** The series by unit: one panel per unit, each with its own scale. */
  _groups() {
    const groups = new Map();
    (this._data?.series ?? []).forEach((series, index) => {
      const unit = series.unit ?? "";
      if (!groups.has(unit)) groups.set(unit, []);
      const earlier = this._compare?.series?.[index];
      groups.get(unit).push({ series, index, earlier });
    });
    return [...groups.entries()].map(([unit, members]) => ({ unit, members }));
  }

  _render() {
    if (!this._config) return;
    const root = this.shadowRoot;
    if (!root.querySelector("ha-card")) {
      root.innerHTML = `<style>${STYLE}</style><ha-card><div class="header"><div class="title"></div><div class="ranges"></div></div><div class="status"></div><div class="panels"></div><div class="legend"></div><div class="tooltip" hidden></div></ha-card>`;
      root.querySelector(".ranges").addEventListener("click", (ev) => {
        const range = ev.target?.dataset?.range;
        if (range && range !== this._currentRange()) {
          this._range = range;
          this._data = null;
          this._compare = null;
          this._render();
          this._fetch();
        }
      });
    }
    root.querySelector(".title").textContent = this._config.title ?? "History";
    const current = this._currentRange();
    root.querySelector(".ranges").innerHTML = Object.keys(RANGES)
      .map((r) => `<button data-range="${r}" class="${r === current ? "active" : ""}">${RANGE_LABELS[r]}</button>`)
      .join("");
    const status = root.querySelector(".status");
    status.className = `status${this._error ? " error" : ""}`;
    status.textContent = this._error ?? (this._loading && !this._data ? "Loading…" : "");
    const panels = root.querySelector(".panels");
    const width = panels.clientWidth || 400;
    this._width = width;
    panels.replaceChildren(...this._groups().map((group) => this._panel(group, width)));
    root.querySelector(".legend").innerHTML = (this._data?.series ?? [])
      .map((s, i) => {
        const swatch = `<span class="swatch" style="background:${color(i)}"></span>`;
        const earlier = this._config.compare
          ? `<span class="swatch dashed" style="border-color:${color(i)}"></span><span class="muted">${COMPARE_LABELS[this._config.compare]}</span>`
          : "";
        return `<span class="item">${swatch}${escapeHtml(s.name)}${earlier}</span>`;
      })
      .join("");
  }

  _panel(group, width) {
    const { start, end } = this._data;
    const height = PANEL_HEIGHT;
    const plotW = Math.max(10, width - PAD.left - PAD.right);
    const plotH = height - PAD.top - PAD.bottom;
    const bucketMs = this._step();
    let low = Infinity;
    let high = -Infinity;
    for (const { series, earlier } of group.members) {
      for (const p of [...series.points, ...(earlier?.points ?? [])]) {
        if (p[1] < low) low = p[1];
        if (p[3] > high) high = p[3];
      }
    }
    const panel = document.createElement("div");
    panel.className = "panel";
    if (low === Infinity) {
      panel.innerHTML = `<div class="empty">No readings in this range${group.unit ? ` (${escapeHtml(group.unit)})` : ""}</div>`;
      return panel;
    }
    const ticks = niceTicks(low, high);
    const yLow = ticks[0];
    const yHigh = ticks[ticks.length - 1];
    const x = (t) => PAD.left + ((t - start) / (end - start)) * plotW;
    const y = (v) => PAD.top + plotH - ((v - yLow) / (yHigh - yLow || 1)) * plotH;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    const parts = [];
    for (const v of ticks) {
      parts.push(`<line class="grid" x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(v)}" y2="${y(v)}"/>`);
      parts.push(`<text class="axis" x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${this._number(v)}</text>`);
    }
    if (group.unit) {
      parts.push(`<text class="axis unit" x="4" y="10">${escapeHtml(group.unit)}</text>`);
    }
    const { ticks: times, kind } = timeTicks(start, end, plotW);
    for (const t of times) {
      parts.push(`<line class="tick" x1="${x(t)}" x2="${x(t)}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}"/>`);
      parts.push(`<text class="axis" x="${x(t)}" y="${height - 6}" text-anchor="middle">${this._time(t, kind)}</text>`);
    }
    for (const { series, index, earlier } of group.members) {
      const stroke = color(index);
      parts.push(`<path class="band" fill="${stroke}" d="${this._band(series.points, bucketMs, x, y)}"/>`);
      if (earlier) {
        const offset = start - this._compare.start;
        const shifted = earlier.points.map((p) => [p[0] + offset, ...p.slice(1)]);
        parts.push(
          `<path class="line earlier" stroke="${stroke}" data-series="${escapeHtml(`${series.device_key}|${series.metric}`)}" data-points="${shifted.length}" d="${this._line(shifted, bucketMs, x, y)}"/>`,
        );
      }
      parts.push(
        `<path class="line" stroke="${stroke}" data-series="${escapeHtml(`${series.device_key}|${series.metric}`)}" data-points="${series.points.length}" d="${this._line(series.points, bucketMs, x, y)}"/>`,
      );
    }
    parts.push(`<line class="cursor" y1="${PAD.top}" y2="${PAD.top + plotH}" visibility="hidden"/>`);
    parts.push(`<rect class="hit" x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}"/>`);
    svg.innerHTML = parts.join("");
    const hit = svg.querySelector(".hit");
    hit.addEventListener("mousemove", (ev) => this._hover(ev, svg, group, x, start, end, plotW));
    hit.addEventListener("mouseleave", () => {
      svg.querySelector(".cursor").setAttribute("visibility", "hidden");
      this.shadowRoot.querySelector(".tooltip").hidden = true;
    });
    panel.append(svg);
    return panel;
  }

  /**
   * The bucket width: the store picks a round width (a minute, an hour, a day...) of at
   * least (end - start) / buckets; the closest two buckets of any series show it.
   */
  _step() {
    const { start, end, buckets } = this._data;
    let step = Infinity;
    for (const source of [this._data, this._compare]) {
      for (const series of source?.series ?? []) {
        for (let i = 2; i < series.points.length; i++) {
          step = Math.min(step, series.points[i][0] - series.points[i - 1][0]);
        }
      }
    }
    const least = (end - start) / Math.max(1, buckets);
    return Number.isFinite(step) && step >= least ? step : least;
  }

  /** Runs of buckets without a missing one between them; a gap breaks the line. */
  _runs(points, bucketMs) {
    const runs = [];
    let run = [];
    for (const p of points) {
      if (run.length && p[0] - run[run.length - 1][0] > bucketMs * 1.5) {
        runs.push(run);
        run = [];
      }
      run.push(p);
    }
    if (run.length) runs.push(run);
    return runs;
  }

  _line(points, bucketMs, x, y) {
    const centre = bucketMs / 2;
    return this._runs(points, bucketMs)
      .map((run) => {
        const d = run.map((p, i) => `${i ? "L" : "M"}${x(p[0] + centre).toFixed(1)},${y(p[2]).toFixed(1)}`).join("");
        return run.length === 1 ? `${d}l0,0` : d;
      })
      .join("");
  }

  _band(points, bucketMs, x, y) {
    const centre = bucketMs / 2;
    return this._runs(points, bucketMs)
      .filter((run) => run.length > 1)
      .map((run) => {
        const top = run.map((p, i) => `${i ? "L" : "M"}${x(p[0] + centre).toFixed(1)},${y(p[3]).toFixed(1)}`);
        const bottom = run.reverse().map((p) => `L${x(p[0] + centre).toFixed(1)},${y(p[1]).toFixed(1)}`);
        return `${top.join("")}${bottom.join("")}Z`;
      })
      .join("");
  }

  _hover(ev, svg, group, x, start, end, plotW) {
    const box = svg.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * svg.viewBox.baseVal.width;
    const t = start + ((px - PAD.left) / plotW) * (end - start);
    const bucketMs = this._step();
    const nearest = (points, offset = 0) => {
      let best = null;
      for (const p of points) {
        const distance = Math.abs(p[0] + offset + bucketMs / 2 - t);
        if (distance <= bucketMs * 1.5 && (!best || distance < best.distance)) best = { p, distance };
      }
      return best?.p;
    };
    const rows = [];
    for (const { series, index, earlier } of group.members) {
      const p = nearest(series.points);
      const unit = series.unit ? ` ${escapeHtml(series.unit)}` : "";
      const swatch = `<span class="swatch" style="background:${color(index)}"></span>`;
      rows.push(
        p
          ? `<div>${swatch}${escapeHtml(series.name)}: <b>${this._number(p[2])}${unit}</b> <span class="muted">(${this._number(p[1])} – ${this._number(p[3])})</span></div>`
          : `<div>${swatch}${escapeHtml(series.name)}: <span class="muted">no readings</span></div>`,
      );
      if (earlier) {
        const e = nearest(earlier.points, start - this._compare.start);
        if (e) {
          rows.push(`<div class="muted">${COMPARE_LABELS[this._config.compare]}: ${this._number(e[2])}${unit}</div>`);
        }
      }
    }
    const cursor = svg.querySelector(".cursor");
    cursor.setAttribute("x1", px);
    cursor.setAttribute("x2", px);
    cursor.setAttribute("visibility", "visible");
    const tooltip = this.shadowRoot.querySelector(".tooltip");
    tooltip.innerHTML = `<div class="when">${this._time(t, "full")}</div>${rows.join("")}`;
    tooltip.hidden = false;
    const card = this.shadowRoot.querySelector("ha-card").getBoundingClientRect();
    const left = ev.clientX - card.left + 12;
    tooltip.style.left = `${Math.min(left, card.width - tooltip.offsetWidth - 4)}px`;
    tooltip.style.top = `${ev.clientY - card.top + 12}px`;
  }

  _number(value) {
    const language = this._hass?.locale?.language ?? this._hass?.language ?? "en";
    const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
    return new Intl.NumberFormat(language, { maximumFractionDigits: digits }).format(value);
  }

  _time(t, kind) {
    const language = this._hass?.locale?.language ?? this._hass?.language ?? "en";
    const timeZone = this._hass?.config?.time_zone;
    const options = {
      time: { hour: "2-digit", minute: "2-digit" },
      day: { day: "numeric", month: "short" },
      month: { month: "short", year: "2-digit" },
      full: { dateStyle: "medium", timeStyle: "short" },
    }[kind];
    try {
      return new Intl.DateTimeFormat(language, { ...options, timeZone }).format(new Date(t));
    } catch {
      return new Intl.DateTimeFormat(language, options).format(new Date(t));
    }
  }
}

const STYLE = `
  :host { display: block; }
  ha-card { position: relative; padding: 12px 12px 8px; overflow: hidden; }
  .header { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
  .title { font-size: var(--ha-card-header-font-size, 20px); color: var(--ha-card-header-color, var(--primary-text-color)); }
  .ranges { display: flex; gap: 4px; }
  .ranges button {
    font: inherit; font-size: 12px; cursor: pointer; padding: 2px 8px; border-radius: 12px;
    border: 1px solid var(--divider-color); background: none; color: var(--secondary-text-color);
  }
  .ranges button.active { background: var(--primary-color); border-color: var(--primary-color); color: var(--text-primary-color, #fff); }
  .status { font-size: 13px; color: var(--secondary-text-color); }
  .status.error { color: var(--error-color, #db4437); }
  .panels { width: 100%; }
  .panel svg { display: block; overflow: visible; }
  .empty { padding: 24px 0; text-align: center; color: var(--secondary-text-color); }
  .grid { stroke: var(--divider-color); stroke-width: 1; }
  .tick { stroke: var(--secondary-text-color); }
  .axis { fill: var(--secondary-text-color); font-size: 11px; font-family: var(--ha-font-family-body, inherit); }
  .band { fill-opacity: 0.18; stroke: none; }
  .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
  .line.earlier { stroke-dasharray: 4 3; stroke-width: 1.3; opacity: 0.75; }
  .cursor { stroke: var(--secondary-text-color); stroke-dasharray: 2 2; }
  .hit { fill: transparent; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; color: var(--primary-text-color); padding-top: 4px; }
  .legend .item { display: inline-flex; align-items: center; gap: 4px; }
  .swatch { display: inline-block; width: 12px; height: 3px; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
  .swatch.dashed { background: none !important; border-top: 2px dashed; height: 0; margin-left: 6px; }
  .muted { color: var(--secondary-text-color); }
  .tooltip {
    position: absolute; z-index: 2; pointer-events: none; font-size: 12px; line-height: 1.5;
    padding: 6px 8px; border-radius: 6px; max-width: 320px;
    background: var(--card-background-color, #fff); color: var(--primary-text-color);
    border: 1px solid var(--divider-color); box-shadow: 0 2px 6px rgba(0, 0, 0, 0.2);
  }
  .tooltip .when { color: var(--secondary-text-color); }
`;

/**
 * Home Assistant loads its form elements only when an editor of its own needs them. Ask a
 * built-in card for its editor, so `ha-form` and its selectors are defined before ours is
 * made (properties set on an element not yet defined would hide the element's own).
 */
async function loadHaForm() {
  if (customElements.get("ha-form")) return;
  try {
    const helpers = await window.loadCardHelpers?.();
    const card = await helpers?.createCardElement({ type: "entities", entities: [] });
    await card?.constructor?.getConfigElement?.();
  } catch {
    // Fall through: wait for the form below.
  }
  await Promise.race([
    customElements.whenDefined("ha-form"),
    new Promise((resolve) => setTimeout(resolve, 10_000)),
  ]);
}

/** The visual editor: Home Assistant's own form and selectors. */
class HomeMonitorHistoryCardEditor extends HTMLElement {
  setConfig(config) {
    this._config = { ...config };
    this._render();
  }

  set hass(hass) {
    this._hass = hass;
    if (this._form) this._form.hass = hass;
    else this._render();
  }

  /** The store's series no entity shows any more (removed devices), to pick by key. */
  async _loadStored() {
    try {
      const { series } = await this._hass.callWS({ type: "home_monitor/series" });
      this._stored = series.filter((s) => !s.entity_id);
    } catch {
      this._stored = [];
    }
  }

  /** The form's data: series as "device key|metric" strings for the select. */
  _data(config) {
    const data = { range: "7d", compare: "", ...config };
    if (config.series) data.series = config.series.map((s) => `${s.device_key}|${s.metric}`);
    return data;
  }

  _schema() {
    const ours = { integration: "home_monitor" };
    const schema = [
      { name: "title", selector: { text: {} } },
      { name: "entities", selector: { entity: { multiple: true, filter: ours } } },
      { name: "devices", selector: { device: { multiple: true, filter: ours } } },
      { name: "areas", selector: { area: { multiple: true, device: ours } } },
      {
        name: "metrics",
        selector: {
          select: {
            multiple: true,
            options: ["temperature", "humidity", "illuminance", "pm25", "pm10", "co", "voc_index", "air_quality", "battery", "motion"],
          },
        },
      },
      {
        name: "range",
        selector: {
          select: {
            mode: "dropdown",
            options: [...Object.entries(RANGE_LABELS), ["custom", "Custom"]].map(([value, label]) => ({ value, label })),
          },
        },
      },
    ];
    if (this._stored?.length || this._config.series?.length) {
      const options = (this._stored ?? []).map((s) => ({
        value: `${s.device_key}|${s.metric}`,
        label: `${s.name}${s.area_name ? ` (${s.area_name})` : ""}`,
      }));
      schema.splice(4, 0, { name: "series", selector: { select: { multiple: true, options } } });
    }
    if (this._config.range === "custom") {
      schema.push({ name: "start", selector: { datetime: {} } }, { name: "end", selector: { datetime: {} } });
    }
    schema.push({
      name: "compare",
      selector: {
        select: {
          mode: "dropdown",
          options: [
            { value: "", label: "No comparison" },
            { value: "year", label: "Same range a year earlier" },
            { value: "week", label: "Same range a week earlier" },
          ],
        },
      },
    });
    return schema;
  }

  async _render() {
    if (!this._hass || !this._config) return;
    this._loading ??= Promise.all([loadHaForm(), this._loadStored()]);
    await this._loading;
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.computeLabel = (s) =>
        ({
          title: "Title",
          entities: "Entities",
          devices: "Devices (all their measurements)",
          areas: "Areas (every Home Monitor measurement in them)",
          series: "Devices no longer in Home Assistant",
          metrics: "Only these measurements (devices and areas)",
          range: "Range",
          start: "Start",
          end: "End",
          compare: "Compare with",
        })[s.name] ?? s.name;
      this._form.addEventListener("value-changed", (ev) => {
        const config = { ...ev.detail.value };
        if (config.series) {
          config.series = config.series.map((value) => {
            const at = value.lastIndexOf("|");
            return { device_key: value.slice(0, at), metric: value.slice(at + 1) };
          });
        }
        for (const key of Object.keys(config)) {
          if (config[key] === "" || (Array.isArray(config[key]) && !config[key].length)) delete config[key];
        }
        if (config.range !== "custom") {
          delete config.start;
          delete config.end;
        }
        this._config = config;
        this._form.data = this._data(config);
        this._form.schema = this._schema();
        this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
      });
      this.append(this._form);
    }
    this._form.hass = this._hass;
    this._form.data = this._data(this._config);
    this._form.schema = this._schema();
  }
}

if (!customElements.get(CARD)) customElements.define(CARD, HomeMonitorHistoryCard);
if (!customElements.get(EDITOR)) customElements.define(EDITOR, HomeMonitorHistoryCardEditor);

window.customCards = window.customCards || [];
if (!window.customCards.some((card) => card.type === CARD)) {
  window.customCards.push({
    type: CARD,
    name: "Home Monitor history",
    description: "Years of Home Monitor readings: a line per series with its min/max band, optionally against a year or a week earlier.",
    preview: true,
    documentationURL: "https://github.com/home-monitor/ha-home-monitor#the-history-card",
  });
}
