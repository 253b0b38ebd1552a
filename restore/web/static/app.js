// restore web app: tabs, uploads, queued runs with progress, before/after viewer, downloads.
// Talks only to the server it came from (see restore/web/app.py for the API).
"use strict";

let LIMITS = { max_bytes: 50 * 2 ** 20 };

async function api(url, options) {
  let res;
  try {
    res = await fetch(url, options);
  } catch (e) {
    throw new Error("the restore server does not answer (is restore serve still running?)");
  }
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) {
    throw new Error((body && body.error) || `the server answered ${res.status} ${res.statusText}`);
  }
  return body;
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

class Tab {
  constructor(section) {
    this.section = section;
    this.tool = section.dataset.tool;
    const area = section.querySelector(".viewer-area");
    if (!area.children.length) {
      area.appendChild(document.getElementById("viewer-template").content.cloneNode(true));
    }
    this.el = (role) => section.querySelector(`[data-role="${role}"]`);
    this.single = area.dataset.single === "1";
    this.editMask = area.dataset.mask === "edit";
    this.upload = null;   // {upload, width, height, url}
    this.lastJob = null;  // the last finished job's status
    this.busy = false;
    this.mask = new MaskEditor(this.el("mask"));
    this._wire();
  }

  _wire() {
    const file = this.el("file");
    if (file) {
      file.addEventListener("change", () => file.files[0] && this.chooseFile(file.files[0]));
      const drop = this.el("drop");
      drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
      drop.addEventListener("dragleave", () => drop.classList.remove("over"));
      drop.addEventListener("drop", (e) => {
        e.preventDefault();
        drop.classList.remove("over");
        if (e.dataTransfer.files[0]) this.chooseFile(e.dataTransfer.files[0]);
      });
    }
    this.el("run").addEventListener("click", () => this.run(false));
    this.el("slider").addEventListener("input", () => this.setSlider());
    const rerun = this.el("rerun");
    if (rerun) rerun.addEventListener("click", () => this.run(true));
    this.el("resetmask").addEventListener("click", () => {
      if (this.editMask) this.mask.clear(this.mask.canvas.width, this.mask.canvas.height);
      else this.mask.reset();
    });
    const show = this.el("showmask");
    if (show) show.addEventListener("change", () => {
      this.mask.canvas.classList.toggle("hidden", !show.checked);
      this.mask.enabled = show.checked;
    });
    for (const b of this.section.querySelectorAll('[data-role="brush"]')) {
      if (!b.name) b.name = `${this.tool}-brush`;
      b.addEventListener("change", () => { if (b.checked) this.mask.mode = b.value; });
    }
    const size = this.el("brushsize");
    this.mask.size = Number(size.value);
    size.addEventListener("input", () => { this.mask.size = Number(size.value); });
    this.setSlider();
  }

  setSlider() {
    this.el("compare").style.setProperty("--pos", `${this.el("slider").value}%`);
  }

  showError(message) {
    const box = this.el("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async chooseFile(file) {
    this.showError("");
    this.el("downloads").hidden = true;
    this.el("viewer").hidden = true;
    this.el("masktools").hidden = true;
    this.el("info").textContent = "";
    this.upload = null;
    this.el("run").disabled = true;
    if (file.size > LIMITS.max_bytes) {
      const mb = (n) => (n / 2 ** 20).toFixed(1);
      this.showError(`${file.name}: ${mb(file.size)} MiB is over the upload limit of ${mb(LIMITS.max_bytes)} MiB`);
      return;
    }
    this.progress(`uploading ${file.name}`, null);
    try {
      const up = await api(`/api/upload?name=${encodeURIComponent(file.name)}`, {
        method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" },
      });
      this.upload = up;
      await this.showImages(up.url, null);
      if (this.editMask) {
        this.mask.clear(up.width, up.height);
        this.mask.enabled = true;
        this.el("masktools").hidden = false;
      } else {
        this.mask.clear(up.width, up.height);
        this.mask.enabled = false;
      }
      this.el("info").textContent = `${up.name}: ${up.width} x ${up.height}`;
      this.el("run").disabled = false;
    } catch (e) {
      this.showError(e.message);
    } finally {
      this.progress(null);
    }
  }

  async showImages(beforeUrl, afterUrl) {
    const before = this.el("before"), after = this.el("after");
    const loads = [];
    if (beforeUrl !== null) { before.src = beforeUrl; loads.push(before.decode()); }
    after.src = afterUrl || beforeUrl || after.src;
    loads.push(after.decode());
    await Promise.all(loads.map((p) => p.catch(() => null)));
    const compare = this.el("compare");
    compare.classList.toggle("single", this.single);
    // show small images larger (at least 512 px wide), large ones within the window's height
    const shown = this.single ? after : before;
    const w = shown.naturalWidth || 512, h = shown.naturalHeight || 512;
    const width = Math.min(Math.max(w, 512), 1040, (0.7 * window.innerHeight * w) / h);
    compare.style.width = `${Math.round(width)}px`;
    compare.classList.toggle("pixelated", width > 2 * w);
    this.el("slider").parentElement.hidden = this.single || !afterUrl;
    this.el("viewer").hidden = false;
  }

  options() {
    const q = new URLSearchParams();
    for (const el of this.section.querySelectorAll('[data-role="options"] [name]')) {
      q.set(el.name, el.type === "checkbox" ? (el.checked ? "1" : "0") : el.value);
    }
    return q;
  }

  async run(withMask) {
    if (this.busy) return;
    if (this.tool !== "generate" && !this.upload) { this.showError("choose a photo first"); return; }
    const q = this.options();
    if (this.upload) q.set("upload", this.upload.upload);
    let body = null;
    if (withMask || this.editMask) {
      if (this.editMask && this.mask.isEmpty()) { this.showError("paint over what should be filled first"); return; }
      body = await this.mask.toBlob();
    }
    this.busy = true;
    this.showError("");
    for (const b of this.section.querySelectorAll("button")) b.disabled = true;
    try {
      this.progress("sending", null);
      const headers = body ? { "Content-Type": "image/png" } : {};
      const { job } = await api(`/api/run/${this.tool}?${q}`, { method: "POST", body, headers });
      const st = await this.follow(job);
      await this.showResult(st);
    } catch (e) {
      this.showError(e.message);
    } finally {
      this.busy = false;
      for (const b of this.section.querySelectorAll("button")) b.disabled = false;
      this.progress(null);
    }
  }

  async follow(job) {
    for (;;) {
      const st = await api(`/api/jobs/${job}?wait=0.25`);
      if (st.status === "done") return st;
      if (st.status === "error") throw new Error(st.error);
      if (st.status === "queued") {
        this.progress(`waiting for ${st.position} earlier request(s)`, null);
      } else {
        const frac = st.expected ? Math.min(0.95, st.elapsed / st.expected) : st.progress;
        // no estimate yet (a first run): an indeterminate bar, the stage and the seconds
        const known = st.expected || st.progress > 0;
        this.progress(`${st.stage}: ${st.elapsed.toFixed(1)} s`, known ? Math.max(frac, st.progress) : null);
      }
      await sleep(50);
    }
  }

  async showResult(st) {
    this.lastJob = st;
    const result = st.outputs.result;
    await this.showImages(this.single ? null : (this.upload ? this.upload.url : null), result);
    const info = st.info || {};
    const parts = [`done in ${st.elapsed.toFixed(1)} s`];
    if (info.size) parts.push(`${info.size[1]} x ${info.size[0]}`);
    if (info.stages) parts.push(info.stages.join(", "));
    if (info.tone) parts.push(`tone: ${info.tone}`);
    if (info.damaged != null) parts.push(`damage found: ${(100 * info.damaged).toFixed(1)}% of the photo`);
    if (info.warnings && info.warnings.length) parts.push(info.warnings.join("; "));
    this.el("info").textContent = parts.join(" · ");
    const dl = this.el("dl-result");
    dl.href = result;
    const dlMask = this.el("dl-mask");
    if (dlMask) {
      dlMask.hidden = !st.outputs.mask;
      if (st.outputs.mask) dlMask.href = st.outputs.mask;
    }
    this.el("downloads").hidden = false;
    if (this.tool === "photo" && st.outputs.mask) {
      await this.mask.load(st.outputs.mask, this.upload.width, this.upload.height);
      const show = this.el("showmask");
      this.mask.enabled = show.checked;
      this.mask.canvas.classList.toggle("hidden", !show.checked);
      this.el("masktools").hidden = false;
    } else if (this.tool !== "inpaint") {
      this.mask.canvas.classList.add("hidden");
    }
  }

  progress(text, frac) {
    const box = this.el("progress");
    if (text === null) { box.hidden = true; return; }
    box.hidden = false;
    const bar = box.querySelector("progress");
    if (frac === null || frac === undefined) bar.removeAttribute("value");
    else bar.value = frac;
    box.querySelector("span").textContent = text;
  }
}

function showTab(name) {
  for (const b of document.querySelectorAll("nav [data-tab]")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === name));
  }
  for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== name;
}

async function main() {
  const tabs = {};
  for (const s of document.querySelectorAll("section.tab")) tabs[s.id] = new Tab(s);
  for (const b of document.querySelectorAll("nav [data-tab]")) {
    b.addEventListener("click", () => showTab(b.dataset.tab));
  }
  try {
    const about = await api("/api/models");
    LIMITS = about;
    for (const sel of document.querySelectorAll("select[data-models]")) {
      for (const name of about.tools[sel.dataset.models] || []) {
        const o = document.createElement("option");
        o.value = name; o.textContent = name;
        sel.appendChild(o);
      }
    }
  } catch (e) {
    tabs.photo.showError(e.message);
  }
  document.body.dataset.ready = "1";
}

main();
