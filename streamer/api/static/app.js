// topictrack dashboard: one page over /api/v1, refreshed in place, alerts pushed over SSE.
// Every window is in event time: the stream's newest minute ("now") anchors each panel.
"use strict";

const API = "/api/v1";
const REFRESH_MS = 5000;
const state = {
  stream: null, window: "15m", baseline: "24h", now: null, selected: [], detail: null,
  cursor: null, feed: null, seen: new Set(), timelinePlot: null,
};

// A token given as #token=... is kept for later visits (the API asks for it beyond loopback).
(function keepToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) { localStorage.setItem("topictrack-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
})();
const token = () => localStorage.getItem("topictrack-token");

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (token()) headers.Authorization = "Bearer " + token();
  const r = await fetch(API + path, Object.assign({}, opts, { headers }));
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const err = new Error((body && body.error) || `HTTP ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return body;
}

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k.nodeType ? k : String(k));
  return e;
}
function fill(node, ...kids) { node.replaceChildren(...kids.flat()); }
function empty(text) { return el("p", { class: "empty" }, text); }
function failure(err) {
  const what = err.status === 503 ? "store unreachable, retrying" : err.status === 409 ? err.message : `${err.message} — retrying`;
  return el("p", { class: err.status === 409 ? "empty" : "error" }, what);
}
const pad = (n) => String(n).padStart(2, "0");
function when(ts, withDate = true) {
  if (ts === null || ts === undefined) return "–";
  const d = new Date(ts * 1000);
  const t = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${t}` : t;
}
const fmt = (x, d = 1) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));
function setStatus(text, cls) { const s = $("status"); s.textContent = text; s.className = "status " + (cls || ""); }
function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") u.set(k, v);
  return u.toString();
}

// ---- streams and event-time now --------------------------------------------------------
async function loadStreams() {
  const body = await api("/streams");
  const sel = $("stream");
  const names = body.streams.map((s) => s.stream);
  if (!state.stream || !names.includes(state.stream)) state.stream = names.includes("default") ? "default" : names[0] || "default";
  const have = Array.from(sel.options).map((o) => o.value);
  if (have.join() !== names.join()) fill(sel, names.map((n) => el("option", { value: n }, n)));
  sel.value = state.stream;
  const mine = body.streams.find((s) => s.stream === state.stream);
  state.now = mine ? mine.now_ts : null;
  $("now").textContent = state.now ? when(state.now) + " UTC" : "no events yet";
  return body;
}

// ---- trending -------------------------------------------------------------------------
function sparkline(values) {
  const w = 90, h = 22, max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * w},${h - 1 - (v / max) * (h - 2)}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark"); svg.setAttribute("viewBox", `0 0 ${w} ${h}`); svg.setAttribute("preserveAspectRatio", "none");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts); svg.append(line);
  return svg;
}

async function loadTrending() {
  const body = await api("/trending?" + qs({ stream: state.stream, window: state.window, baseline: state.baseline, limit: 15 }));
  $("trending-sub").textContent = `${state.window} window ending ${when(body.now_ts)} · score = Poisson z over a ${state.baseline} baseline`;
  if (!body.trending.length) {
    fill($("trending-body"), empty(state.now ? `no topic has ${body.min_support}+ posts in the last ${state.window} of event time` : "no topics yet — waiting for events"));
    return body;
  }
  if (!state.selected.length) state.selected = body.trending.slice(0, 3).map((r) => r.topic_id);
  const rows = body.trending.map((r, i) =>
    el("tr", { class: "topic" + (state.selected.includes(r.topic_id) ? " sel" : ""), "data-topic": r.topic_id, onclick: () => pick(r.topic_id) },
      el("td", { class: "num" }, i + 1),
      el("td", {}, el("span", { class: "label" }, r.label || `topic ${r.topic_id}`), el("br"), el("span", { class: "kw" }, r.keywords.slice(0, 6).join(", "))),
      el("td", { class: "num" }, r.window_count),
      el("td", { class: "num" }, fmt(r.growth) + "×"),
      el("td", { class: "num hide-narrow" }, fmt(r.score)),
      el("td", {}, sparkline(r.spark || []))));
  fill($("trending-body"), el("table", {},
    el("thead", {}, el("tr", {}, el("th", { class: "num" }, "#"), el("th", {}, "topic"), el("th", { class: "num" }, "count"),
      el("th", { class: "num" }, "growth"), el("th", { class: "num hide-narrow" }, "score"), el("th", {}, "last hour"))),
    el("tbody", {}, rows)));
  return body;
}

function pick(topicId) {
  const i = state.selected.indexOf(topicId);
  if (i >= 0 && state.detail === topicId) state.selected.splice(i, 1);
  else if (i < 0) state.selected = [topicId, ...state.selected].slice(0, 6);
  state.detail = topicId;
  document.querySelectorAll("tr.topic").forEach((tr) => tr.classList.toggle("sel", state.selected.includes(Number(tr.dataset.topic))));
  loadTimeline().catch(showErr("timeline-chart"));
  loadDetail().catch(showErr("detail-body"));
}

// ---- timeline -------------------------------------------------------------------------
const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777"];

function shadePlugin(body) {
  return {
    hooks: {
      drawClear: (u) => {
        const ctx = u.ctx, top = u.bbox.top, hgt = u.bbox.height;
        const band = (from, to, color) => {
          const x0 = u.valToPos(from, "x", true), x1 = u.valToPos(to, "x", true);
          ctx.fillStyle = color; ctx.fillRect(x0, top, x1 - x0, hgt);
        };
        band(body.baseline_from, body.window_from, "rgba(107,114,128,0.08)");
        band(body.window_from, body.now_ts + 60, "rgba(37,99,235,0.12)");
      },
    },
  };
}

async function loadTimeline() {
  const body = await api("/timeline?" + qs({ stream: state.stream, window: state.window, baseline: state.baseline, topics: state.selected.join(","), span: "6h" }));
  const box = $("timeline-chart");
  if (!body.now_ts || !body.topics.length) {
    $("timeline-empty").style.display = "";
    if (state.timelinePlot) { state.timelinePlot.destroy(); state.timelinePlot = null; }
    box.replaceChildren();
    return body;
  }
  $("timeline-empty").style.display = "none";
  $("timeline-sub").textContent = `per minute, last 6h of event time · blue: trending window · grey: baseline`;
  const data = [body.minutes, ...body.topics.map((t) => body.series[String(t.topic_id)])];
  const series = [{}, ...body.topics.map((t, i) => ({ label: (t.label || `topic ${t.topic_id}`).slice(0, 28), stroke: COLORS[i % COLORS.length], width: 1.5 }))];
  const width = Math.max(260, box.clientWidth || 600);
  if (state.timelinePlot) state.timelinePlot.destroy();
  state.timelinePlot = new uPlot({
    width, height: 220, series, plugins: [shadePlugin(body)],
    scales: { x: { time: true } }, axes: [{}, { size: 40 }],
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
  }, data, box);
  return body;
}

// ---- topic detail ---------------------------------------------------------------------
function lineageTree(lin, topic) {
  const named = (n) => el("a", { class: "link", onclick: () => { state.detail = n.topic_id; loadDetail(); } }, `#${n.topic_id} ${n.label || ""}`);
  const items = [];
  if (lin.split_from) items.push(el("li", {}, "split from ", named(lin.split_from)));
  if (lin.merged_into) items.push(el("li", {}, "merged into ", named(lin.merged_into)));
  const self = el("li", {}, el("b", {}, `#${topic.topic_id} ${topic.label}`));
  const kids = [...lin.merged_from.map((n) => el("li", {}, "◂ merged from ", named(n))), ...lin.split_into.map((n) => el("li", {}, "▸ split into ", named(n)))];
  if (kids.length) self.append(el("ul", {}, kids));
  items.push(self);
  return el("ul", { class: "tree" }, items);
}

// The other topics of a topic's story (a sub-story, a language variant: docs/engine.md).
async function storyOf(t) {
  if (!(t.story_id >= 1)) return null;
  const body = await api("/topics?" + qs({ stream: state.stream, story: t.story_id, limit: 50 }));
  const named = (n) => el("a", { class: "link", onclick: () => { state.detail = n.topic_id; loadDetail(); } }, `#${n.topic_id} ${n.label || ""}`);
  const others = body.topics.filter((x) => x.topic_id !== t.topic_id);
  return others.length
    ? el("ul", { class: "posts" }, others.map((x) => el("li", {}, named(x), ` · ${x.size} posts`)))
    : empty("the only topic of its story so far");
}

async function loadDetail() {
  if (state.detail === null) return null;
  const body = await api(`/topics/${state.detail}?` + qs({ stream: state.stream }));
  const t = body.topic;
  const story = await storyOf(t);
  $("detail-sub").textContent = `#${t.topic_id} · ${t.status}`;
  const scores = t.keyword_scores || [];
  const top = Math.max(1e-9, ...scores.slice(0, 10));
  const bars = el("div", { class: "bars" }, t.keywords.slice(0, 10).map((k, i) =>
    el("div", { class: "bar" }, el("span", {}, k), el("i", { style: `width:${Math.max(2, ((scores[i] || 0) / top) * 100)}%` }), el("span", {}, fmt(scores[i], 3)))));
  const facts = el("dl", { class: "facts" },
    el("dt", {}, "label"), el("dd", { class: "label" }, t.label),
    el("dt", {}, "size"), el("dd", {}, `${t.size} posts (version ${t.version})`),
    el("dt", {}, "born"), el("dd", {}, when(t.born_at)),
    el("dt", {}, "updated"), el("dd", {}, when(t.updated_at)),
    el("dt", {}, "status"), el("dd", {}, t.status),
    el("dt", {}, "story"), el("dd", {}, t.story_id >= 1 ? `#${t.story_id}` : "–"));
  const posts = (t.examples || []).slice(0, 5);
  const history = body.history.slice(-6).reverse().map((h) =>
    el("li", {}, `v${h.version} · ${when(h.updated_at)} · ${h.size} posts: `,
      h.added.length || h.removed.length
        ? [...h.added.map((k) => el("span", { class: "added" }, "+" + k + " ")), ...h.removed.map((k) => el("span", { class: "removed" }, k + " "))]
        : el("span", { class: "kw" }, h.keywords.slice(0, 6).join(", "))));
  fill($("detail-body"), bars, facts,
    el("h3", {}, "Representative posts"), posts.length ? el("ul", { class: "posts" }, posts.map((p) => el("li", {}, p))) : empty("no posts kept"),
    el("h3", {}, "Lineage"), lineageTree(body.lineage, t),
    ...(story ? [el("h3", {}, "Same story"), story] : []),
    el("h3", {}, "Keyword changes"), history.length ? el("ul", { class: "posts" }, history) : empty("keywords never changed (or this process keeps no history)"));
  return body;
}

// ---- alerts ---------------------------------------------------------------------------
function alertItem(a, fresh) {
  return el("li", { class: fresh ? "fresh" : "", "data-alert": a.alert_id },
    el("span", { class: "kind " + a.kind }, a.kind), " ",
    el("a", { class: "link", onclick: () => { state.stream = a.stream; pick(a.topic_id); location.hash = "#detail"; } }, a.label || `topic ${a.topic_id}`),
    el("span", { class: "kw" }, ` · ${when(a.window_end)} · ${a.size} posts · score ${fmt(a.score)}`),
    el("br"), el("span", { class: "kw" }, (a.keywords || []).slice(0, 6).join(", ")));
}
function showAlert(a, fresh) {
  if (state.seen.has(a.alert_id)) return;
  state.seen.add(a.alert_id);
  $("alert-feed").prepend(alertItem(a, fresh));
  $("alerts-empty").style.display = "none";
}

async function startAlerts() {
  const body = await api("/alerts?limit=50");
  body.alerts.forEach((a) => showAlert(a, false));
  state.cursor = body.cursor;
  if (!body.cursor) { $("feed-state").textContent = "(no live feed here)"; return; }
  const params = { after: state.cursor };
  if (token()) params.access_token = token();
  const es = new EventSource(API + "/alerts/events?" + qs(params));
  state.feed = es;
  es.onopen = () => { $("feed-state").textContent = "live"; };
  es.addEventListener("alert", (ev) => showAlert(JSON.parse(ev.data), true));
  // The browser reconnects by itself and sends Last-Event-ID: the server resumes after it.
  es.onerror = () => { $("feed-state").textContent = "reconnecting…"; };
}

// ---- health ---------------------------------------------------------------------------
function card(value, label) { return el("div", { class: "card" }, el("b", {}, value), el("span", {}, label)); }
function secs(s) {
  if (s === null || s === undefined) return "–";
  const a = Math.abs(s);
  if (a < 120) return `${Math.round(s)} s`;
  if (a < 7200) return `${Math.round(s / 60)} min`;
  if (a < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

async function loadHealth() {
  const h = await api("/health?dead_letters=8");
  const w = h.worker || {}, c = w.counters || {};
  const store = h.store;
  const cards = [];
  if (h.worker) {
    cards.push(card(c["embed.received"] || 0, "embed in"), card(c["embed.embedded"] || 0, "embed out"),
      card(c["track.received"] || 0, "track in"), card(c["track.assigned"] || 0, "track out"),
      card(c["sink.received"] || 0, "sink in (rows)"), card(c["sink.events"] || 0, "sink out (events)"));
    const lag = (w.consumer_lag || []).reduce((n, p) => n + p.lag, 0);
    cards.push(card(lag, "consumer lag (msgs)"));
  }
  const mine = h.streams[state.stream];
  if (mine) cards.push(card(secs(mine.event_time_lag_s), "event-time lag (wall − newest)"));
  const ss = store ? store.streams.find((s) => s.stream === state.stream) : null;
  if (ss) cards.push(card((ss.unassigned_share * 100).toFixed(1) + "%", "unassigned share"));
  if (store) cards.push(card(store.totals.dead_letters, "dead letters"), card(store.totals.events, "events stored"));
  const hook = w.webhook;
  if (hook) cards.push(card(`${hook.sent}/${hook.queued}`, `webhook sent/queued · ${hook.waiting} waiting · ${hook.failed} failed`));
  else if (h.worker) cards.push(card("off", "webhook"));
  const parts = [el("div", { class: "cards", id: "health-cards" }, cards)];
  if (store && store.dead_letter_reasons.length) {
    parts.push(el("h3", {}, "Dead letters by reason"), el("table", {},
      el("thead", {}, el("tr", {}, el("th", {}, "stage"), el("th", {}, "reason"), el("th", { class: "num" }, "n"))),
      el("tbody", {}, store.dead_letter_reasons.slice(0, 8).map((r) => el("tr", {}, el("td", {}, r.stage), el("td", {}, r.reason), el("td", { class: "num" }, r.n))))));
  } else if (store) parts.push(empty("no dead letters"));
  if (!h.worker) parts.push(empty("this process runs no stage (topictrack serve): counters live in the workers"));
  fill($("health-body"), parts);
  return h;
}

// ---- search and assign ----------------------------------------------------------------
$("search-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const q = $("search-q").value.trim();
  if (!q) return;
  try {
    const body = await api("/search?" + qs({ q, stream: state.stream, limit: 20 }));
    fill($("search-body"), body.topics.length
      ? el("ul", { class: "posts" }, body.topics.map((t) => el("li", {}, el("a", { class: "link", onclick: () => pick(t.topic_id) }, `#${t.topic_id} ${t.label}`), el("span", { class: "kw" }, ` · ${t.size} posts · ${t.keywords.slice(0, 6).join(", ")}`))))
      : empty(`no topic has a keyword like “${q}”`));
  } catch (err) { fill($("search-body"), failure(err)); }
});

$("assign-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("assign-text").value.trim();
  if (!text) return;
  fill($("assign-body"), empty("assigning…"));
  try {
    const body = await api("/assign", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ texts: [text], stream: state.stream, k: 5 }) });
    const r = body.results[0];
    fill($("assign-body"), r.topics.length
      ? el("div", { class: "bars" }, r.topics.map((t) => el("div", { class: "bar" },
          el("a", { class: "link", onclick: () => pick(t.topic_id) }, (t.label || `#${t.topic_id}`).slice(0, 16)),
          el("i", { style: `width:${Math.max(2, t.probability * 100)}%` }), el("span", {}, (t.probability * 100).toFixed(0) + "%"))))
      : empty("no topic is near this text (it would wait for a new topic)"));
    if (r.topics.length && r.topics[0].examples && r.topics[0].examples.length) $("assign-body").append(el("p", { class: "kw" }, "nearest topic's posts: " + r.topics[0].examples.join(" · ")));
  } catch (err) { fill($("assign-body"), failure(err)); }
});

// ---- a user's interests and recommended topics (docs/interests.md) ---------------------
function shareBar(label, topicId, share, note) {
  return el("div", { class: "bar" },
    el("a", { class: "link", onclick: () => pick(topicId) }, (label || `#${topicId}`).slice(0, 16)),
    el("i", { style: `width:${Math.max(2, share * 100)}%` }), el("span", {}, note));
}
$("user-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const id = $("user-id").value.trim();
  if (!id) return;
  const path = "/users/" + encodeURIComponent(id);
  try {
    const [me, recs] = await Promise.all([
      api(path + "/interests?" + qs({ stream: state.stream, limit: 8 })),
      api(path + "/recommend?" + qs({ stream: state.stream, limit: 5 })),
    ]);
    fill($("user-body"),
      el("p", { class: "kw" }, `${me.posts} posts, as of ${when(me.as_of)} · ${me.keywords.slice(0, 6).join(", ")}`),
      el("div", { class: "bars interests" }, me.topics.map((t) => shareBar(t.label, t.topic_id, t.share, (t.share * 100).toFixed(0) + "%"))),
      el("p", { class: "kw" }, "picks for this user:"),
      el("ul", { class: "posts picks" }, recs.items.map((r) => el("li", {},
        el("a", { class: "link", onclick: () => pick(r.topic_id) }, `#${r.topic_id} ${r.label}`),
        el("span", { class: "kw" }, r.because.length ? ` · because: ${r.because.join("; ")}` : " · trending")))));
  } catch (err) {
    fill($("user-body"), err.status === 404 ? empty(`no profile of “${id}” in this stream`) : failure(err));
  }
});

// ---- hierarchy ------------------------------------------------------------------------
function treeNode(n) {
  if (n.topic_id !== undefined) return el("li", {}, el("a", { class: "link", onclick: () => pick(n.topic_id) }, `#${n.topic_id} ${n.label}`));
  const kids = (n.children || []).map(treeNode);
  const count = (m) => (m.topic_id !== undefined ? 1 : (m.children || []).reduce((s, k) => s + count(k), 0));
  return el("li", {}, el("details", { open: "" }, el("summary", {}, `${count(n)} topics · distance ${fmt(n.distance, 2)}`), el("ul", {}, kids)));
}
async function loadHierarchy() {
  try {
    const body = await api("/hierarchy?" + qs({ stream: state.stream }));
    const tree = body.tree;
    fill($("hierarchy-body"), tree.children && tree.children.length ? el("ul", { class: "tree" }, treeNode(tree)) : empty("no topics yet — waiting for events"));
  } catch (err) { fill($("hierarchy-body"), failure(err)); }
}
$("hierarchy-load").addEventListener("click", loadHierarchy);

// ---- the refresh loop -----------------------------------------------------------------
const showErr = (id) => (err) => { fill($(id), failure(err)); };

async function refresh() {
  try {
    await loadStreams();
    setStatus("live · refreshed " + new Date().toLocaleTimeString(), "ok");
  } catch (err) {
    setStatus(err.status === 401 ? "token needed: open the page with #token=…" : "store unreachable, retrying", "err");
    return;
  }
  await Promise.all([
    loadTrending().catch(showErr("trending-body")),
    loadHealth().catch(showErr("health-body")),
  ]);
  await Promise.all([
    loadTimeline().catch((err) => { $("timeline-empty").style.display = ""; $("timeline-empty").textContent = err.message; }),
    state.detail !== null ? loadDetail().catch(showErr("detail-body")) : null,
  ]);
}

$("stream").addEventListener("change", (ev) => { state.stream = ev.target.value; state.selected = []; state.detail = null; refresh(); loadHierarchy(); });
$("window").addEventListener("change", (ev) => {
  state.window = ev.target.value;
  // A baseline at least as long as the window (the API requires it): 24 h, or the option's own.
  state.baseline = ev.target.selectedOptions[0].dataset.baseline || "24h";
  refresh();
});

(async function main() {
  await refresh();
  startAlerts().catch((err) => { $("feed-state").textContent = err.message; });
  loadHierarchy();
  setInterval(refresh, REFRESH_MS);
})();
