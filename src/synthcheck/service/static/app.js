// synthcheck web UI: plain JS, no external requests; everything goes to this server's /api/v1.
"use strict";

const state = { results: [], previews: new Map(), heatmaps: new Map(), picked: new Set(), sortKey: null, sortAsc: true, token: sessionStorage.getItem("synthcheck-token") || "" };

function $(sel) { return document.querySelector(sel); }
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) { $("#token-box").hidden = false; throw new Error("this server needs an access token"); }
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    try { const body = await res.json(); if (body.detail) msg = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail); } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  const type = res.headers.get("content-type") || "";
  return type.includes("application/json") ? res.json() : res;
}

// ---------- tabs ----------
function showTab(name) {
  for (const t of ["detect", "projects"]) {
    $("#tab-" + t).setAttribute("aria-selected", String(t === name));
    $("#panel-" + t).hidden = t !== name;
  }
  if (name === "projects" && window.synthcheckProjects) window.synthcheckProjects.load();
}
$("#tab-detect").addEventListener("click", () => showTab("detect"));
$("#tab-projects").addEventListener("click", () => showTab("projects"));

$("#token-save").addEventListener("click", () => {
  state.token = $("#token-input").value.trim();
  sessionStorage.setItem("synthcheck-token", state.token);
  $("#token-box").hidden = true;
});

// ---------- detect ----------
const drop = $("#drop");
const input = $("#file-input");
drop.addEventListener("click", () => input.click());
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); detectFiles([...e.dataTransfer.files]); });
input.addEventListener("change", () => { detectFiles([...input.files]); input.value = ""; });

// One request per file, a few at a time: each result shows as soon as it is known (a batch
// request answered only when its slowest file was done, so a page sat on "Scanning 1-4 of 4" for
// minutes). The server's own limiter still bounds the work running at once.
const CONCURRENCY = 2;
async function detectFiles(files) {
  if (!files.length) return;
  const status = $("#detect-status");
  const heat = $("#want-heatmap").checked ? "true" : "false";
  const pending = files.map((f) => {
    const r = { _id: state.results.length, path: f.name, verdict: "pending", p_ai: null, signals: [], notes: [], error: null };
    state.previews.set(r._id, URL.createObjectURL(f));
    state.results.push(r);
    return { file: f, row: r };
  });
  let done = 0;
  const say = () => { status.textContent = done < files.length ? `Scanning: ${done} of ${files.length} done…` : `Scanned ${files.length} ${files.length === 1 ? "file" : "files"}.`; };
  say();
  renderResults();
  const queue = [...pending];
  async function worker() {
    for (let job = queue.shift(); job; job = queue.shift()) {
      job.row.verdict = "scanning";
      renderResults();
      const form = new FormData();
      form.append("files", job.file, job.file.name);
      let result;
      try {
        const body = await api("/api/v1/detect?heatmap=" + heat, { method: "POST", body: form });
        result = body.results[0];
      } catch (err) {
        result = { path: job.file.name, verdict: "error", p_ai: null, signals: [], notes: [], error: { type: "request", message: err.message } };
      }
      Object.assign(job.row, result, { _id: job.row._id });
      done += 1;
      say();
      renderResults();
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
}

// ---------- plain words (the same rules as the CLI's headline, reports/rows.py) ----------
function tampered(r) { return (r.signals || []).find((s) => s.name === "c2pa" && s.details && s.details.integrity === "invalid"); }
function cautions(r) { return (r.notes || []).filter((n) => n.startsWith("caution: ")).map((n) => n.slice(9)); }
function plainVerdict(r) {
  if (r.verdict === "pending") return "waiting…";
  if (r.verdict === "scanning") return "scanning…";
  if (r.error) return "Could not be analysed: " + r.error.message;
  const decisive = (r.signals || []).some((s) => s.decisive);
  return { ai: decisive ? "Made by AI: its own metadata says so" : "Probably made by AI (from its pixels)",
    real: "Probably a camera photo", unsure: "Can't tell: the evidence is not strong either way" }[r.verdict] || r.verdict;
}
function signalWord(s) {
  if (s.name === "c2pa" && s.details && s.details.integrity === "invalid") return ["tampered", "ai"];
  return { ai: ["AI", "ai"], real: ["camera", "real"] }[s.verdict] || ["no information", "unsure"];
}
function headline(r) {
  if (r.error) return r.error.message;
  const fed = (r.signals || []).filter((s) => s.verdict !== "none");
  const best = fed.find((s) => s.decisive) || fed.sort((a, b) => Math.abs(b.score - .5) - Math.abs(a.score - .5))[0];
  return best ? best.name + ": " + best.summary : "no evidence either way";
}
function badges(r) {
  const out = [];
  if (tampered(r)) out.push(el("span", { class: "badge tampered" }, "C2PA manifest invalid"));
  for (const c of cautions(r)) out.push(el("span", { class: "badge caution" }, "caution: " + c.split(":")[0]));
  return out;
}
function verdictLabel(v) { return { pending: "…", scanning: "…" }[v] || v; }

function renderResults() {
  $("#results-wrap").hidden = state.results.length === 0;
  const rows = [...state.results];
  if (state.sortKey) {
    const k = state.sortKey;
    rows.sort((a, b) => {
      const x = a[k] ?? -1, y = b[k] ?? -1;
      return (x < y ? -1 : x > y ? 1 : 0) * (state.sortAsc ? 1 : -1);
    });
  }
  const tbody = $("#results tbody");
  tbody.replaceChildren(...rows.map((r) => {
    const pick = el("input", { type: "checkbox", class: "pick", "aria-label": "compare " + r.path });
    pick.checked = state.picked.has(r._id);
    pick.addEventListener("click", (e) => e.stopPropagation());
    pick.addEventListener("change", () => { if (pick.checked) state.picked.add(r._id); else state.picked.delete(r._id); updateCompare(); });
    const tr = el("tr", { tabindex: "0", "data-id": String(r._id), class: "row-" + r.verdict },
      el("td", {}, pick),
      el("td", { class: "name" }, r.path),
      el("td", {}, el("span", { class: "verdict v-" + r.verdict }, verdictLabel(r.verdict))),
      el("td", {}, r.p_ai == null ? "—" : r.p_ai.toFixed(3)),
      el("td", {}, el("div", {}, plainVerdict(r)), ...badges(r)));
    tr.addEventListener("click", () => showDetail(r));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") showDetail(r); });
    return tr;
  }));
  const counts = {};
  for (const r of state.results) if (!["pending", "scanning"].includes(r.verdict)) counts[r.verdict] = (counts[r.verdict] || 0) + 1;
  $("#summary").textContent = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(" · ");
  updateCompare();
}

for (const btn of document.querySelectorAll("th button[data-sort]")) {
  btn.addEventListener("click", () => {
    const k = btn.dataset.sort;
    state.sortAsc = state.sortKey === k ? !state.sortAsc : true;
    state.sortKey = k;
    renderResults();
  });
}

// Heatmaps are fetched once per result and shared by the detail view and the viewer.
function heatmapSrc(r) {
  if (!r.heatmap_url) return Promise.resolve(null);
  if (!state.heatmaps.has(r._id)) state.heatmaps.set(r._id, api(r.heatmap_url).then((res) => res.blob()).then((b) => URL.createObjectURL(b)).catch(() => null));
  return state.heatmaps.get(r._id);
}
function legend(r) {
  const mute = (r.notes || []).find((n) => n.startsWith("heatmap uninformative"));
  return el("div", { class: "legend", role: "img", "aria-label": "heatmap colours: blue camera-made, yellow no information, red generated" },
    el("span", { class: "scale" }),
    el("span", { class: "ends" }, el("span", {}, "camera-made"), el("span", {}, "no information"), el("span", {}, "generated")),
    ...(mute ? [el("span", { class: "mute" }, mute)] : []));
}

function showDetail(r) {
  if (["pending", "scanning"].includes(r.verdict)) return;
  $("#detail").hidden = false;
  $("#detail-title").textContent = r.path;
  $("#detail-img").src = state.previews.get(r._id) || "";
  $("#detail-img").alt = "uploaded image " + r.path;
  const heat = $("#detail-heat"), toggle = $("#toggle-heat");
  heat.hidden = true; toggle.checked = false; toggle.disabled = !r.heatmap_url;
  heatmapSrc(r).then((src) => { if (src) heat.src = src; else toggle.disabled = true; });
  toggle.onchange = () => { heat.hidden = !toggle.checked; $("#detail-legend").hidden = !toggle.checked; };
  $("#detail-legend").replaceChildren(...(r.heatmap_url ? [legend(r)] : []));
  $("#detail-legend").hidden = true;
  $("#open-large").onclick = () => openViewer([r]);
  $("#detail-plain").replaceChildren(el("span", { class: "verdict v-" + r.verdict }, r.verdict), " ", plainVerdict(r));
  const alerts = [];
  const t = tampered(r);
  if (t) alerts.push(el("p", { class: "alert tampered" }, "Its C2PA Content Credentials fail validation: the file was changed after signing, or the credentials belong to another image. " + t.summary));
  for (const c of cautions(r)) alerts.push(el("p", { class: "alert" }, "Caution: " + c));
  $("#detail-alerts").replaceChildren(...alerts);
  $("#detail-verdict").replaceChildren(r.p_ai == null ? "No pixel model ran." : `p(AI) = ${r.p_ai.toFixed(3)}`, " · ", headline(r));
  $("#detail-signals").replaceChildren(...(r.signals || []).map((s) => {
    const [word, cls] = signalWord(s);
    const informative = !(s.verdict === "none" && s.score === 0.5);
    return el("li", {},
      el("strong", {}, s.name), " ", el("span", { class: "verdict v-" + cls }, word),
      s.decisive ? " (decisive)" : "", el("div", {}, s.summary),
      ...(informative ? [scoreBar(s.score)] : []),
      el("ul", { class: "ev" }, ...(s.evidence || []).map((e) => el("li", {}, e.message))));
  }));
  const other = (r.notes || []).filter((n) => !n.startsWith("caution: "));
  $("#detail-notes").replaceChildren(...other.map((n) => el("li", {}, n)));
  $("#detail").scrollIntoView({ behavior: "smooth", block: "start" });
}

// Inline style attributes are blocked by the page's CSP; CSSOM properties are not.
function scoreBar(score) {
  const fill = el("span");
  fill.style.width = Math.round(score * 100) + "%";
  return el("div", { class: "bar", role: "img", "aria-label": `score toward AI ${score.toFixed(2)} (0 camera-made, 1 generated)` }, fill);
}

// ---------- the viewer: one image large, or several side by side, heatmaps over them ----------
function updateCompare() {
  const btn = $("#compare");
  const n = state.picked.size;
  btn.disabled = n < 2;
  btn.textContent = n < 2 ? "Compare (tick 2 or more)" : `Compare ${n} side by side`;
}
$("#compare").addEventListener("click", () => openViewer(state.results.filter((r) => state.picked.has(r._id))));
function openViewer(list) {
  const box = $("#viewer-items");
  const show = $("#viewer-heat");
  box.className = "viewer-items n" + Math.min(list.length, 4);
  box.replaceChildren(...list.map((r) => {
    const img = el("img", { src: state.previews.get(r._id) || "", alt: "image " + r.path });
    const heat = el("img", { class: "heat", alt: "heatmap of " + r.path });
    heat.hidden = !show.checked || !r.heatmap_url;
    heatmapSrc(r).then((src) => { if (src) heat.src = src; });
    return el("figure", { class: "viewer-item" }, el("div", { class: "stack" }, img, heat),
      el("figcaption", {}, el("span", { class: "verdict v-" + r.verdict }, r.verdict), " ",
        r.p_ai == null ? "" : `p(AI) ${r.p_ai.toFixed(2)} · `, el("span", { class: "name" }, r.path), ...badges(r),
        ...(r.heatmap_url ? [legend(r)] : [])));
  }));
  show.onchange = () => { box.querySelectorAll("figure").forEach((f, i) => { f.querySelector(".heat").hidden = !show.checked || !list[i].heatmap_url; }); };
  $("#viewer").showModal();
}
$("#viewer-close").addEventListener("click", () => $("#viewer").close());

function csvCell(v) { const s = v == null ? "" : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
$("#export-csv").addEventListener("click", () => {
  // The same columns as `synthcheck scan --format csv` would lead with; an empty cell, not "—",
  // when there is nothing to say.
  const head = ["path", "verdict", "p_ai", "evidence", "cautions", "error"];
  const done = state.results.filter((r) => !["pending", "scanning"].includes(r.verdict));
  const lines = [head.join(",")].concat(done.map((r) => [r.path, r.verdict, r.p_ai, r.error ? "" : headline(r), cautions(r).map((c) => c.split(":")[0]).join("; "), r.error ? r.error.message : ""].map(csvCell).join(",")));
  const a = el("a", { href: URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" })), download: "synthcheck-results.csv" });
  document.body.append(a); a.click(); a.remove();
});
