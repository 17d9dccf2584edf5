// Projects panel: create, upload labelled images (files or a folder), train with progress,
// CV metrics, a review grid with one-click relabel, and a try-it upload.
"use strict";

(function () {
  const root = document.getElementById("projects-root");
  const ui = { current: null, filter: "disagree", sort: "confidence" };

  function h(tag, attrs = {}, ...children) { return el(tag, attrs, ...children); }
  function say(msg) { const s = document.getElementById("project-status"); if (s) s.textContent = msg; }

  async function load() {
    let projects = [];
    try { projects = await api("/api/v1/projects"); } catch (err) { root.replaceChildren(h("p", {}, err.message)); return; }
    const list = h("ul", { class: "project-list" }, ...projects.map((p) => h("li", {},
      h("button", { type: "button", "data-project": p.name, onclick: () => open(p.name) }, p.name),
      ` — ${p.images} image(s), ${p.labelled} labelled, model ${p.model_version == null ? "none" : "v" + p.model_version}`)));
    const form = h("form", { id: "create-project" },
      h("fieldset", {}, h("legend", {}, "New project"),
        h("label", { for: "new-name" }, "Name "), h("input", { id: "new-name", required: "", pattern: "[A-Za-z0-9][A-Za-z0-9_.-]*", maxlength: "64" }), " ",
        h("label", { for: "new-labels" }, "Labels "), h("input", { id: "new-labels", value: "real,ai" }), " ",
        h("button", { type: "submit" }, "Create")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = document.getElementById("new-name").value.trim();
      const labels = document.getElementById("new-labels").value.split(",").map((s) => s.trim()).filter(Boolean);
      try { await api("/api/v1/projects", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name, labels }) }); await open(name); }
      catch (err) { say(err.message); }
    });
    root.replaceChildren(h("h2", {}, "Projects"), projects.length ? list : h("p", { class: "muted" }, "No projects yet."), form,
      h("p", { id: "project-status", role: "status", "aria-live": "polite" }), h("div", { id: "project-detail" }));
  }

  async function open(name) {
    ui.current = name;
    const p = await api("/api/v1/projects/" + encodeURIComponent(name));
    const detail = document.getElementById("project-detail");
    const labelSelect = h("select", { id: "upload-label" }, h("option", { value: "" }, "(from folder names, else unlabelled)"), ...p.labels.map((l) => h("option", { value: l }, l)));
    const files = h("input", { type: "file", id: "upload-files", multiple: "" });
    const folder = h("input", { type: "file", id: "upload-folder", webkitdirectory: "", multiple: "" });
    const upload = h("fieldset", {}, h("legend", {}, "Add images"),
      h("label", { for: "upload-label" }, "Label "), labelSelect, h("br"),
      h("label", { for: "upload-files" }, "Files "), files, " ",
      h("label", { for: "upload-folder" }, "or a folder "), folder);
    files.addEventListener("change", () => uploadFiles([...files.files], labelSelect.value, p.labels));
    folder.addEventListener("change", () => uploadFiles([...folder.files], labelSelect.value, p.labels));
    const counts = Object.entries(p.per_label).map(([k, v]) => `${v} ${k}`).join(", ") + (p.unlabelled ? `, ${p.unlabelled} unlabelled` : "");
    const train = h("button", { type: "button", id: "train" }, "Train");
    train.addEventListener("click", () => startTraining(name));
    const tryInput = h("input", { type: "file", id: "try-files", multiple: "" });
    tryInput.addEventListener("change", () => tryIt([...tryInput.files]));
    const filter = h("select", { id: "review-filter" }, ...["disagree", "agree", "unlabelled", "all", ...p.labels.map((l) => "label:" + l)].map((f) => h("option", { value: f }, f)));
    filter.value = ui.filter;
    filter.addEventListener("change", () => { ui.filter = filter.value; review(); });
    const sort = h("select", { id: "review-sort" }, h("option", { value: "confidence" }, "least confident first"), h("option", { value: "recent" }, "most recent first"));
    sort.value = ui.sort;
    sort.addEventListener("change", () => { ui.sort = sort.value; review(); });
    detail.replaceChildren(
      h("h3", {}, name), h("p", {}, `${p.images} image(s): ${counts}. Labels: ${p.labels.join(", ")}.`),
      upload,
      h("fieldset", {}, h("legend", {}, "Train"), train, h("div", { id: "train-progress", role: "status", "aria-live": "polite" }), h("div", { id: "metrics" })),
      h("fieldset", {}, h("legend", {}, "Review"), h("label", { for: "review-filter" }, "Show "), filter, " ", h("label", { for: "review-sort" }, "sorted "), sort, h("div", { id: "review-grid", class: "grid" })),
      h("fieldset", {}, h("legend", {}, "Try it"), h("label", { for: "try-files" }, "Images "), tryInput, h("div", { id: "try-results" })));
    if (p.current_model) { showMetrics(p.current_model); review(); }
  }

  async function uploadFiles(files, label, labels) {
    if (!files.length) return;
    // Folder uploads: a sub-folder named like a label labels the files inside it.
    const groups = new Map();
    for (const f of files) {
      let lab = label;
      if (!lab && f.webkitRelativePath) {
        const parts = f.webkitRelativePath.split("/");
        lab = parts.slice(0, -1).reverse().find((part) => labels.includes(part)) || "";
      }
      if (!groups.has(lab)) groups.set(lab, []);
      groups.get(lab).push(f);
    }
    let added = 0, merged = 0, failed = 0;
    for (const [lab, group] of groups) {
      for (let i = 0; i < group.length; i += 16) {
        const form = new FormData();
        for (const f of group.slice(i, i + 16)) form.append("files", f, f.name);
        if (lab) form.append("label", lab);
        say(`Uploading ${Math.min(i + 16, group.length)} of ${group.length} (${lab || "unlabelled"})…`);
        try {
          const r = await api(`/api/v1/projects/${encodeURIComponent(ui.current)}/images`, { method: "POST", body: form });
          added += r.added; merged += r.merged_duplicates; failed += r.failed;
        } catch (err) { say(err.message); return; }
      }
    }
    say(`Added ${added}, merged ${merged} duplicate(s), ${failed} failed.`);
    await open(ui.current);
  }

  async function startTraining(name) {
    const progress = document.getElementById("train-progress");
    document.getElementById("train").disabled = true;
    try {
      let job = await api(`/api/v1/projects/${encodeURIComponent(name)}/train`, { method: "POST" });
      while (job.state === "queued" || job.state === "running") {
        progress.textContent = `Training… ${job.elapsed_seconds == null ? "" : job.elapsed_seconds.toFixed(1) + " s"}`;
        await new Promise((r) => setTimeout(r, 400));
        job = await api("/api/v1/jobs/" + job.id);
      }
      if (job.state === "failed") { progress.textContent = "Training failed: " + job.error; return; }
      progress.textContent = job.result.message || "Training finished.";
      showMetrics(job.result);
      await review();
    } catch (err) { progress.textContent = err.message; }
    finally { document.getElementById("train").disabled = false; }
  }

  function showMetrics(m) {
    const acc = m.cv_accuracy_per_class || {};
    const rows = Object.entries(acc).map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, (100 * v).toFixed(1) + "%")));
    const chosen = m.chosen ? `${(m.chosen.feature_set || []).join(" + ")} · ${m.chosen.head}` : "";
    document.getElementById("metrics").replaceChildren(
      h("table", { id: "cv-table" }, h("caption", {}, "Cross-validated accuracy per class"), h("tbody", {}, ...rows)),
      h("p", {}, `AUC ${m.cv_auc == null ? "—" : m.cv_auc.toFixed(3)} · ${chosen}`));
  }

  async function review() {
    const grid = document.getElementById("review-grid");
    const q = new URLSearchParams({ sort: ui.sort, limit: "60" });
    if (ui.filter !== "all") q.set("filter", ui.filter);
    let items;
    try { items = await api(`/api/v1/projects/${encodeURIComponent(ui.current)}/review?` + q); } catch (err) { grid.replaceChildren(h("p", {}, err.message)); return; }
    const p = await api("/api/v1/projects/" + encodeURIComponent(ui.current));
    if (!items.length) { grid.replaceChildren(h("p", { class: "muted" }, "Nothing to review with this filter.")); return; }
    grid.replaceChildren(...items.map((it) => card(it, p.labels)));
  }

  function card(it, labels) {
    const img = h("img", { alt: it.path, loading: "lazy" });
    api(`/api/v1/projects/${encodeURIComponent(ui.current)}/images/${it.sha256}/thumbnail?size=240`)
      .then((r) => r.blob()).then((b) => { img.src = URL.createObjectURL(b); }).catch(() => {});
    const name = it.path.split("/").pop();
    const buttons = labels.map((l) => h("button", { type: "button", class: "relabel", "aria-pressed": String(it.label === l), "aria-label": `label ${name} as ${l}`,
      onclick: async () => { await api(`/api/v1/projects/${encodeURIComponent(ui.current)}/images/${it.sha256}/label`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ label: l }) }); say(`${name} labelled ${l}`); await review(); } }, l));
    return h("div", { class: "card" + (it.agrees === false ? " disagree" : ""), "data-sha": it.sha256 }, img,
      h("div", {}, name), h("div", {}, `label: ${it.label || "—"} · predicted: ${it.predicted || "—"}`),
      h("div", {}, `confidence ${it.confidence == null ? "—" : it.confidence.toFixed(2)}`), h("div", {}, ...buttons));
  }

  async function tryIt(files) {
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    const out = document.getElementById("try-results");
    try {
      const r = await api(`/api/v1/projects/${encodeURIComponent(ui.current)}/predict`, { method: "POST", body: form });
      out.replaceChildren(h("ul", {}, ...r.results.map((x) => h("li", {}, `${x.path}: `, h("span", { class: "verdict v-" + x.verdict }, x.verdict), x.p_ai == null ? "" : ` (p(AI) ${x.p_ai.toFixed(3)})`))));
    } catch (err) { out.replaceChildren(h("p", {}, err.message)); }
  }

  window.synthcheckProjects = { load, open };
})();
