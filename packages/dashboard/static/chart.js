// The write-load chart: writes/s (filled area, left scale) and p99 latency (line, right scale)
// over the last minute, drawn on a canvas in the page's own colours. No library, no network.

window.keelChart = {
  draw(canvas, history) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const css = getComputedStyle(document.documentElement);
    const colour = (name) => css.getPropertyValue(name).trim();
    const pad = { l: 48, r: 64, t: 8, b: 18 };
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    const n = 60;
    const pts = history.slice(-n);
    // For tests and assistive tools: how many points of the minute saw writes.
    canvas.dataset.points = String(pts.filter((p) => p.writesPerSec > 0).length);
    const maxW = Math.max(10, ...pts.map((p) => p.writesPerSec));
    const maxL = Math.max(1, ...pts.map((p) => p.p99Ms ?? 0));
    const x = (i) => pad.l + (pw * (n - pts.length + i)) / (n - 1);
    const yW = (v) => pad.t + ph - (ph * v) / maxW;
    const yL = (v) => pad.t + ph - (ph * v) / maxL;
    ctx.strokeStyle = colour('--line');
    ctx.lineWidth = 1;
    ctx.strokeRect(pad.l, pad.t, pw, ph);
    ctx.fillStyle = colour('--muted');
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.fillText(`${Math.round(maxW)}/s`, pad.l - 4, pad.t + 10);
    ctx.fillText('0', pad.l - 4, pad.t + ph);
    ctx.textAlign = 'left';
    ctx.fillText(`${maxL.toFixed(1)} ms`, pad.l + pw + 4, pad.t + 10);
    ctx.fillText('p99', pad.l + pw + 4, pad.t + ph);
    ctx.textAlign = 'center';
    ctx.fillText('last minute', pad.l + pw / 2, h - 4);
    if (pts.length === 0) return;
    ctx.beginPath();
    ctx.moveTo(x(0), yW(0));
    for (const [i, p] of pts.entries()) ctx.lineTo(x(i), yW(p.writesPerSec));
    ctx.lineTo(x(pts.length - 1), yW(0));
    ctx.closePath();
    ctx.globalAlpha = 0.3;
    ctx.fillStyle = colour('--accent');
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.strokeStyle = colour('--accent');
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.beginPath();
    let drawing = false;
    pts.forEach((p, i) => {
      if (p.p99Ms === null) {
        drawing = false;
        return;
      }
      if (drawing) ctx.lineTo(x(i), yL(p.p99Ms));
      else ctx.moveTo(x(i), yL(p.p99Ms));
      drawing = true;
    });
    ctx.strokeStyle = colour('--warn');
    ctx.lineWidth = 1.5;
    ctx.stroke();
  },
};
