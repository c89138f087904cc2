// Alice dashboard: polls the monitoring API and draws with DOM calls only (textContent,
// createElement): data is never parsed as HTML. No build step, no dependencies.
"use strict";

const API = "/api/monitoring";
const POLL_MS = 2000;
const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function fmt(v, digits = 1, unit = "") {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (typeof v !== "number") return String(v);
  const abs = Math.abs(v);
  const d = abs >= 100 ? 0 : abs >= 10 ? Math.min(digits, 1) : digits;
  return v.toFixed(d) + unit;
}

function pct(v, digits = 1) {
  return v === null || v === undefined ? "—" : (v * 100).toFixed(digits) + " %";
}

function badge(text, cls) {
  return el("span", { class: "badge " + String(cls || text) }, text);
}

function replace(id, ...nodes) {
  document.getElementById(id).replaceChildren(...nodes);
}

function table(headers, rows, emptyText) {
  if (!rows.length) return el("p", { class: "empty" }, emptyText || "nothing observed in this window");
  const head = el("tr", {}, ...headers.map((h) => el("th", {}, h)));
  const body = rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
}

function card(label, value, title) {
  return el("div", { class: "card", title: title || "" }, el("div", { class: "label" }, label),
    el("div", { class: "value", "data-metric": label }, value));
}

function chart(id, points, series, fixedMax) {
  const svg = document.getElementById(id);
  const W = 300, H = 90, P = 14;
  let max = fixedMax || 0;
  for (const s of series) for (const p of points) if (p[s] !== null && p[s] > max) max = p[s];
  if (!max) max = 1;
  const axis = document.createElementNS(SVG_NS, "line");
  for (const [k, v] of Object.entries({ x1: P, y1: H - P, x2: W, y2: H - P, class: "axis" })) axis.setAttribute(k, v);
  const label = document.createElementNS(SVG_NS, "text");
  label.setAttribute("x", 0);
  label.setAttribute("y", 8);
  label.textContent = fmt(max, 2);
  const drawn = [axis, label];
  series.forEach((s, i) => {
    const coords = [];
    points.forEach((p, j) => {
      if (p[s] === null || p[s] === undefined) return;
      const x = P + (j / Math.max(1, points.length - 1)) * (W - P);
      const y = H - P - (p[s] / max) * (H - 2 * P);
      coords.push(x.toFixed(1) + "," + y.toFixed(1));
    });
    const line = document.createElementNS(SVG_NS, "polyline");
    line.setAttribute("points", coords.join(" "));
    line.setAttribute("class", i === 0 ? "l1" : "l2");
    drawn.push(line);
  });
  svg.replaceChildren(...drawn);
}

// With API keys configured the monitoring API needs the admin key; it is asked for once and kept
// for this browser tab only.
const KEY_ITEM = "alice-admin-key";
let asking = null; // one prompt for all the requests refused at the same time

function askForKey() {
  asking = asking || Promise.resolve().then(() => {
    const key = window.prompt("Alice admin key (for the monitoring API)");
    if (key && key.trim()) sessionStorage.setItem(KEY_ITEM, key.trim());
    asking = null;
  });
  return asking;
}

async function get(path, retried = false) {
  const w = document.getElementById("window").value;
  const sep = path.includes("?") ? "&" : "?";
  const key = sessionStorage.getItem(KEY_ITEM);
  const headers = key ? { authorization: "Bearer " + key } : {};
  const r = await fetch(API + path + sep + "window=" + encodeURIComponent(w), { cache: "no-store", headers });
  if ((r.status === 401 || r.status === 403) && !retried) {
    if (key) sessionStorage.removeItem(KEY_ITEM);
    await askForKey();
    if (sessionStorage.getItem(KEY_ITEM)) return get(path, true);
  }
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

function summaryRows(groups, withLatency) {
  return Object.entries(groups).map(([name, s]) => {
    const row = [name, s.requests, fmt(s.rps, 2), pct(s.error_rate)];
    if (withLatency) row.push(fmt(s.p50_ms), fmt(s.p95_ms));
    return row;
  });
}

function usageRows(groups) {
  return Object.entries(groups).map(([name, s]) =>
    [name, s.requests, pct(s.error_rate), s.tokens_in, s.tokens_out, fmt(s.cost, 4)]);
}

async function refresh() {
  const [perf, routing, slo, guardian, usage, timeline, quality, events] = await Promise.all([
    get("/performance"), get("/routing"), get("/slo"), get("/guardian"), get("/usage"),
    get("/timeline"), get("/quality"), get("/events"),
  ]);
  const cache = perf.cache;

  replace("cards",
    card("requests/s", fmt(perf.rps, 2), perf.requests + " requests in the window"),
    card("latency p50", fmt(perf.latency_ms.p50, 1, " ms")),
    card("latency p95", fmt(perf.latency_ms.p95, 1, " ms")),
    card("overhead p50", fmt(perf.overhead_ms.p50, 3, " ms"), "time Alice adds on top of the model"),
    card("overhead p95", fmt(perf.overhead_ms.p95, 3, " ms")),
    card("success", pct(perf.success_rate, 2)),
    card("cache hit rate", pct(cache.hit_rate)),
    card("TTFT p50", fmt(perf.ttft_ms.p50, 1, " ms"), "streams: time to first token"),
    card("in flight", perf.inflight),
    card("loop lag max", fmt(perf.event_loop_lag_ms.max_1m, 2, " ms"), "largest event-loop lag in the last minute"),
    card("tokens in/out", perf.tokens_in + " / " + perf.tokens_out),
    card("cost", fmt(perf.cost, 4)),
  );

  const pts = timeline.points;
  chart("chart-rps", pts, ["rps", "errors_per_s"]);
  chart("chart-latency", pts, ["p50_ms", "p95_ms"]);
  chart("chart-overhead", pts, ["overhead_p50_ms"]);
  chart("chart-cache", pts, ["cache_hit_rate"], 1);

  const g = document.getElementById("guardian");
  g.textContent = "guardian: " + (guardian.available ? guardian.state : "not installed");
  g.className = "badge " + (guardian.state || "");

  const sloRows = Object.entries(slo.objectives).map(([name, o]) => {
    const burns = slo.windows_s.map((w) => fmt(o.windows[String(w)].burn_rate, 2));
    return [name, o.description, ...burns, pct(o.budget_remaining, 0), badge(o.level)];
  });
  const routeRows = Object.entries(slo.routes).map(([name, r]) =>
    ["route " + name, "p95 warn " + r.warning_ms + " / crit " + r.critical_ms + " ms", "p95 " + fmt(r.p95_ms, 1, " ms"),
     ...slo.windows_s.slice(1).map(() => ""), "", badge(r.level)]);
  const wl = slo.windows_s.map((w) => "burn " + (w >= 3600 ? w / 3600 + " h" : w / 60 + " min"));
  replace("slo", table(["objective", "target", ...wl, "budget left", "level"], [...sloRows, ...routeRows]));

  const backendRows = Object.entries(routing.backends).map(([name, b]) => [
    name, b.breaker ? badge(b.breaker.state) : "—", b.requests, pct(b.error_rate), fmt(b.p50_ms), fmt(b.p95_ms),
  ]);
  replace("backends", table(["deployment", "breaker", "requests", "errors", "p50 ms", "p95 ms"], backendRows,
    "no deployments configured"));
  replace("routes", table(["route", "requests", "rps", "errors", "p50 ms", "p95 ms"], summaryRows(routing.routes, true)));
  replace("intents", table(["intent", "requests", "rps", "errors", "p50 ms", "p95 ms"], summaryRows(routing.intents, true)));

  const tierRows = Object.entries(cache.tiers).map(([tier, n]) => [tier, n, pct(cache.tier_rates[tier])]);
  replace("cache", table(["tier", "requests", "share"], tierRows));

  const qRows = [
    ...Object.entries(quality.routes).map(([k, q]) => ["route " + k, q.good, q.bad, q.neutral, pct(q.precision)]),
    ...Object.entries(quality.intents).map(([k, q]) => ["intent " + k, q.good, q.bad, q.neutral, pct(q.precision)]),
  ];
  replace("quality", table(["", "good", "bad", "neutral", "precision"], qRows, "no feedback yet"));

  const uh = ["", "requests", "errors", "tokens in", "tokens out", "cost"];
  replace("tenants", table(["tenant", ...uh.slice(1)], usageRows(usage.tenants)));
  replace("agents", table(["agent", ...uh.slice(1)], usageRows(usage.agents),
    "no agent seen (header x-alice-agent or the OpenAI user field)"));

  const evRows = events.recent.slice(0, 15).map((e) => {
    const { id, kind, severity, time, ...rest } = e;
    return [new Date(time * 1000).toLocaleTimeString(), badge(severity, severity === "info" ? "ok" : severity),
      kind, JSON.stringify(rest)];
  });
  replace("events", table(["time", "severity", "kind", "details"], evRows, "no events yet"));

  document.getElementById("updated").textContent =
    "updated " + new Date().toLocaleTimeString() + " · up " + fmt(perf.uptime_s / 60, 1) + " min";
  document.body.dataset.loaded = "true";
}

async function loop() {
  try {
    await refresh();
  } catch (err) {
    document.getElementById("updated").textContent = "error: " + err.message;
  }
  setTimeout(loop, POLL_MS);
}

document.getElementById("window").addEventListener("change", () => refresh().catch(() => {}));
loop();
