// A mask painted with a brush on a canvas at the photo's own resolution (red = damaged / hole).
// The canvas is shown over the photo, scaled by CSS; toBlob() gives the PNG the server reads
// (white = damaged, black = fine), of exactly the photo's size.
"use strict";

class MaskEditor {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.mode = "paint";   // or "erase"
    this.size = 16;        // brush diameter in screen pixels
    this.enabled = false;
    this.original = null;  // the detected mask, to undo the user's changes
    this.last = null;
    this.changed = false;
    canvas.addEventListener("pointerdown", (e) => this._down(e));
    canvas.addEventListener("pointermove", (e) => this._move(e));
    for (const ev of ["pointerup", "pointerleave", "pointercancel"]) {
      canvas.addEventListener(ev, () => { this.last = null; });
    }
  }

  clear(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx.clearRect(0, 0, width, height);
    this.original = this.ctx.getImageData(0, 0, width, height);
    this.changed = false;
  }

  // Load a server mask (white = damaged) as the red overlay.
  async load(url, width, height) {
    const img = new Image();
    img.src = url;
    await img.decode();
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx.clearRect(0, 0, width, height);
    this.ctx.drawImage(img, 0, 0, width, height);
    const data = this.ctx.getImageData(0, 0, width, height);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      const on = px[i] >= 128;
      px[i] = 255; px[i + 1] = 0; px[i + 2] = 0; px[i + 3] = on ? 255 : 0;
    }
    this.ctx.putImageData(data, 0, 0);
    this.original = data;
    this.changed = false;
  }

  reset() {
    if (this.original) this.ctx.putImageData(this.original, 0, 0);
    this.changed = false;
  }

  isEmpty() {
    const px = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] >= 128) return false;
    return true;
  }

  // The mask as a PNG blob: white where painted, black elsewhere.
  toBlob() {
    const w = this.canvas.width, h = this.canvas.height;
    const src = this.ctx.getImageData(0, 0, w, h).data;
    const out = document.createElement("canvas");
    out.width = w; out.height = h;
    const octx = out.getContext("2d");
    const img = octx.createImageData(w, h);
    for (let i = 0; i < src.length; i += 4) {
      const v = src[i + 3] >= 128 ? 255 : 0;
      img.data[i] = v; img.data[i + 1] = v; img.data[i + 2] = v; img.data[i + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    return new Promise((resolve) => out.toBlob(resolve, "image/png"));
  }

  _point(e) {
    const r = this.canvas.getBoundingClientRect();
    const sx = this.canvas.width / r.width, sy = this.canvas.height / r.height;
    return { x: (e.clientX - r.left) * sx, y: (e.clientY - r.top) * sy, scale: sx };
  }

  _down(e) {
    if (!this.enabled) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this._point(e);
    this._stroke(this.last, this.last);
  }

  _move(e) {
    if (!this.enabled || !this.last || !(e.buttons & 1)) return;
    const p = this._point(e);
    this._stroke(this.last, p);
    this.last = p;
  }

  _stroke(a, b) {
    const c = this.ctx;
    c.save();
    c.globalCompositeOperation = this.mode === "erase" ? "destination-out" : "source-over";
    c.strokeStyle = "rgb(255,0,0)";
    c.lineCap = "round";
    c.lineJoin = "round";
    c.lineWidth = Math.max(1, this.size * b.scale);
    // no antialiasing halo: the mask is binary at the photo's resolution
    c.imageSmoothingEnabled = false;
    c.beginPath();
    c.moveTo(a.x, a.y);
    c.lineTo(b.x + 0.01, b.y);
    c.stroke();
    c.restore();
    this.changed = true;
  }
}

window.MaskEditor = MaskEditor;
