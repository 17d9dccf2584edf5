// synthcheck web UI: plain JS, no external requests; everything goes to this server's /api/v1.
"use strict";

const state = { results: [], previews: new Map(), sortKey: null, sortAsc: true, token: sessionStorage.getItem("synthcheck-token") || "" };

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

const BATCH = 8;
async function detectFiles(files) {
  if (!files.length) return;
  const status = $("#detect-status");
  let done = 0;
  for (let i = 0; i < files.length; i += BATCH) {
    const chunk = files.slice(i, i + BATCH);
    status.textContent = `Scanning ${done + 1}–${done + chunk.length} of ${files.length}…`;
    const form = new FormData();
    for (const f of chunk) form.append("files", f, f.name);
    const heat = $("#want-heatmap").checked ? "true" : "false";
    try {
      const body = await api("/api/v1/detect?heatmap=" + heat, { method: "POST", body: form });
      body.results.forEach((r, j) => {
        r._id = state.results.length;
        state.previews.set(r._id, URL.createObjectURL(chunk[j]));
        state.results.push(r);
      });
    } catch (err) {
      for (const f of chunk) state.results.push({ _id: state.results.length, path: f.name, verdict: "error", p_ai: null, signals: [], error: { type: "request", message: err.message } });
    }
    done += chunk.length;
    renderResults();
  }
  status.textContent = `Scanned ${files.length} file(s).`;
}

function decisive(r) {
  const d = (r.signals || []).filter((s) => s.decisive);
  if (r.error) return r.error.message;
  return d.length ? d.map((s) => s.name + ": " + s.summary).join("; ") : "—";
}

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
    const tr = el("tr", { tabindex: "0", "data-id": String(r._id) },
      el("td", {}, r.path),
      el("td", {}, el("span", { class: "verdict v-" + r.verdict }, r.verdict)),
      el("td", {}, r.p_ai == null ? "—" : r.p_ai.toFixed(3)),
      el("td", {}, decisive(r)));
    tr.addEventListener("click", () => showDetail(r));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") showDetail(r); });
    return tr;
  }));
  const counts = {};
  for (const r of state.results) counts[r.verdict] = (counts[r.verdict] || 0) + 1;
  $("#summary").textContent = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(" · ");
}

for (const btn of document.querySelectorAll("th button[data-sort]")) {
  btn.addEventListener("click", () => {
    const k = btn.dataset.sort;
    state.sortAsc = state.sortKey === k ? !state.sortAsc : true;
    state.sortKey = k;
    renderResults();
  });
}

function showDetail(r) {
  $("#detail").hidden = false;
  $("#detail-title").textContent = r.path;
  $("#detail-img").src = state.previews.get(r._id) || "";
  $("#detail-img").alt = "uploaded image " + r.path;
  const heat = $("#detail-heat"), toggle = $("#toggle-heat");
  heat.hidden = true; toggle.checked = false; toggle.disabled = !r.heatmap_url;
  if (r.heatmap_url) {
    api(r.heatmap_url).then((res) => res.blob()).then((b) => { heat.src = URL.createObjectURL(b); }).catch(() => { toggle.disabled = true; });
  }
  toggle.onchange = () => { heat.hidden = !toggle.checked; };
  const v = $("#detail-verdict");
  v.replaceChildren(el("span", { class: "verdict v-" + r.verdict }, r.verdict), " ",
    r.p_ai == null ? "(no pixel model ran)" : `p(AI) = ${r.p_ai.toFixed(3)}`,
    r.error ? " — " + r.error.message : "");
  $("#detail-signals").replaceChildren(...(r.signals || []).map((s) => el("li", {},
    el("strong", {}, s.name), " ", el("span", { class: "verdict v-" + (s.verdict === "none" ? "unsure" : s.verdict) }, s.verdict === "none" ? "no evidence" : s.verdict),
    s.decisive ? " (decisive)" : "", el("div", {}, s.summary),
    scoreBar(s.score),
    el("ul", { class: "ev" }, ...(s.evidence || []).map((e) => el("li", {}, e.message))))));
  $("#detail").scrollIntoView({ behavior: "smooth", block: "start" });
}

// Inline style attributes are blocked by the page's CSP; CSSOM properties are not.
function scoreBar(score) {
  const fill = el("span");
  fill.style.width = Math.round(score * 100) + "%";
  return el("div", { class: "bar", role: "img", "aria-label": `score toward AI ${score.toFixed(2)} (0.5 = no information)` }, fill);
}

function csvCell(v) { const s = v == null ? "" : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
$("#export-csv").addEventListener("click", () => {
  const head = ["path", "verdict", "p_ai", "decisive_evidence", "error"];
  const lines = [head.join(",")].concat(state.results.map((r) => [r.path, r.verdict, r.p_ai, decisive(r), r.error ? r.error.message : ""].map(csvCell).join(",")));
  const a = el("a", { href: URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" })), download: "synthcheck-results.csv" });
  document.body.append(a); a.click(); a.remove();
});
