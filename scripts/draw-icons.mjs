// Draws the extension logo (images/logo.png, 128x128) and the four task icons (32x32: images/icons/*.png,
// copied to tasks/<Task>/icon.png) with pngjs. The PNGs are committed; run `node scripts/draw-icons.mjs`
// again only after changing a drawing here. Output is deterministic: same code, same bytes.
//
// Each picture is a list of layers (a coverage function over [0,1]^2 plus a paint), composited
// back-to-front with "over". Every pixel is supersampled on an SS x SS grid, which is the anti-aliasing.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SS = 8;

// ---------------------------------------------------------------- colours
const hex = (h, a = 1) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16), a];
const NAVY_TOP = hex('#16386A');
const NAVY_BOTTOM = hex('#0A1830');
const RED = hex('#FF3621');
const ORANGE = hex('#FF6A3D');
const AMBER = hex('#FFA04D');
const WHITE = hex('#FFFFFF');
const MIST = hex('#B9CBE6');
const GREEN = hex('#3DDC97');

/** A paint is either a colour or a function of (x, y) returning a colour. */
const paintAt = (paint, x, y) => (typeof paint === 'function' ? paint(x, y) : paint);
const verticalGradient = (top, bottom) => (_x, y) => top.map((c, i) => c + (bottom[i] - c) * y);

// ---------------------------------------------------------------- shapes (coverage predicates)
const roundedRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, r0, r1) => (x, y) => {
  const d = (x - cx) ** 2 + (y - cy) ** 2;
  return d >= r0 * r0 && d <= r1 * r1;
};
/** Even-odd point-in-polygon. */
const polygon = (pts) => (x, y) => {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
function segmentDistance(x, y, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}
/** A polyline stroked with round caps and joins. */
const stroke = (pts, width) => (x, y) => {
  for (let i = 0; i + 1 < pts.length; i++) if (segmentDistance(x, y, pts[i], pts[i + 1]) <= width / 2) return true;
  return false;
};
const quadratic = (p0, p1, p2, n = 24) =>
  Array.from({ length: n + 1 }, (_, i) => {
    const t = i / n;
    const u = 1 - t;
    return [u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0], u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1]];
  });
/** Arc of a ring from angle a0 to a1 (radians, clockwise on screen since y grows downwards). */
const arc = (cx, cy, r, width, a0, a1) => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  if (Math.abs(d - r) > width / 2) return false;
  let a = Math.atan2(y - cy, x - cx);
  while (a < a0) a += 2 * Math.PI;
  return a <= a1;
};
const union =
  (...shapes) =>
  (x, y) =>
    shapes.some((s) => s(x, y));
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);
const rhombus = (cx, cy, w, h) =>
  polygon([
    [cx, cy - h / 2],
    [cx + w / 2, cy],
    [cx, cy + h / 2],
    [cx - w / 2, cy],
  ]);
/** A gear: disc with rectangular teeth, minus a hub hole. */
const gear = (cx, cy, rBody, rTooth, teeth, toothHalfAngle, rHole) => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  if (d <= rHole) return false;
  if (d <= rBody) return true;
  if (d > rTooth) return false;
  const a = Math.atan2(y - cy, x - cx);
  const step = (2 * Math.PI) / teeth;
  const off = ((a % step) + step) % step;
  return off <= toothHalfAngle || off >= step - toothHalfAngle;
};

// ---------------------------------------------------------------- raster
function render(size, layers) {
  const png = new PNG({ width: size, height: size });
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const x = (px + (sx + 0.5) / SS) / size;
          const y = (py + (sy + 0.5) / SS) / size;
          // Composite this sample back-to-front (premultiplied).
          let cr = 0,
            cg = 0,
            cb = 0,
            ca = 0;
          for (const layer of layers) {
            if (!layer.shape(x, y)) continue;
            const [lr, lg, lb, la] = paintAt(layer.paint, x, y);
            cr = lr * la + cr * (1 - la);
            cg = lg * la + cg * (1 - la);
            cb = lb * la + cb * (1 - la);
            ca = la + ca * (1 - la);
          }
          r += cr;
          g += cg;
          b += cb;
          a += ca;
        }
      }
      const n = SS * SS;
      const i = (py * size + px) * 4;
      const alpha = a / n;
      png.data[i] = alpha > 0 ? Math.round(r / n / alpha) : 0;
      png.data[i + 1] = alpha > 0 ? Math.round(g / n / alpha) : 0;
      png.data[i + 2] = alpha > 0 ? Math.round(b / n / alpha) : 0;
      png.data[i + 3] = Math.round(alpha * 255);
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

// ---------------------------------------------------------------- pictures
const tile = (radius) => ({ shape: roundedRect(0.02, 0.02, 0.98, 0.98, radius), paint: verticalGradient(NAVY_TOP, NAVY_BOTTOM) });

/** Three stacked layers, Databricks-style: a full rhombus on top, chevrons (rhombus minus the one above) below. */
function stackedLayers(cx, cy, w, h, gap) {
  const colours = [RED, ORANGE, AMBER];
  return colours.map((paint, i) => {
    const y = cy + i * gap;
    const shape = i === 0 ? rhombus(cx, y, w, h) : minus(rhombus(cx, y, w, h), rhombus(cx, y - gap * 0.62, w * 1.04, h * 1.04));
    return { shape, paint };
  });
}

function logo() {
  const trend = [
    [0.2, 0.36],
    [0.36, 0.25],
    [0.48, 0.31],
    [0.72, 0.14],
  ];
  const arrowHead = polygon([
    [0.8, 0.1],
    [0.64, 0.1],
    [0.78, 0.24],
  ]);
  return [tile(0.2), ...stackedLayers(0.5, 0.54, 0.62, 0.24, 0.12), { shape: stroke(trend, 0.07), paint: GREEN }, { shape: arrowHead, paint: GREEN }];
}

function deployIcon() {
  // Git branch: trunk with two commits, a branch commit joined by a curve.
  const trunk = stroke(
    [
      [0.34, 0.24],
      [0.34, 0.76],
    ],
    0.1,
  );
  const branch = stroke(quadratic([0.68, 0.32], [0.68, 0.6], [0.34, 0.66]), 0.1);
  const node = (cx, cy) => ring(cx, cy, 0.065, 0.135);
  const nodeFill = (cx, cy) => circle(cx, cy, 0.135);
  return [
    tile(0.18),
    { shape: union(trunk, branch), paint: WHITE },
    { shape: union(nodeFill(0.34, 0.24), nodeFill(0.34, 0.78), nodeFill(0.68, 0.3)), paint: NAVY_TOP },
    { shape: union(node(0.34, 0.24), node(0.34, 0.78)), paint: WHITE },
    { shape: node(0.68, 0.3), paint: ORANGE },
  ];
}

function trainIcon() {
  // A gear inside a looping progress arrow.
  const a0 = -Math.PI * 0.35;
  const a1 = Math.PI * 1.35;
  const r = 0.36;
  const tip = [0.5 + r * Math.cos(a1), 0.5 + r * Math.sin(a1)];
  // Arrow head at the arc's end, pointing along the clockwise tangent.
  const tangent = [-Math.sin(a1), Math.cos(a1)];
  const normal = [Math.cos(a1), Math.sin(a1)];
  const head = polygon([
    [tip[0] + normal[0] * 0.13, tip[1] + normal[1] * 0.13],
    [tip[0] - normal[0] * 0.13, tip[1] - normal[1] * 0.13],
    [tip[0] + tangent[0] * 0.16, tip[1] + tangent[1] * 0.16],
  ]);
  return [
    tile(0.18),
    { shape: arc(0.5, 0.5, r, 0.085, a0, a1), paint: ORANGE },
    { shape: head, paint: ORANGE },
    { shape: gear(0.5, 0.5, 0.17, 0.235, 8, 0.2, 0.075), paint: WHITE },
  ];
}

function evaluateIcon() {
  // Bar chart rising left to right, with a check mark.
  const base = 0.8;
  const bars = [rect(0.16, base - 0.24, 0.32, base), rect(0.4, base - 0.38, 0.56, base), rect(0.64, base - 0.54, 0.8, base)];
  const check = [
    [0.18, 0.4],
    [0.32, 0.54],
    [0.62, 0.2],
  ];
  return [tile(0.18), { shape: union(...bars), paint: MIST }, { shape: stroke(check, 0.17), paint: NAVY_BOTTOM }, { shape: stroke(check, 0.1), paint: GREEN }];
}

function servingIcon() {
  // A served model: two server units, and the traffic leaving them split in two (canary), one branch orange.
  const unit = (y) => roundedRect(0.14, y, 0.56, y + 0.16, 0.05);
  const led = (y) => circle(0.46, y + 0.08, 0.04);
  const trunk = stroke(
    [
      [0.56, 0.5],
      [0.68, 0.5],
    ],
    0.08,
  );
  const upper = stroke(quadratic([0.68, 0.5], [0.74, 0.26], [0.86, 0.26]), 0.08);
  const lower = stroke(quadratic([0.68, 0.5], [0.74, 0.74], [0.86, 0.74]), 0.08);
  return [
    tile(0.18),
    { shape: union(unit(0.21), unit(0.42), unit(0.63)), paint: WHITE },
    { shape: union(led(0.21), led(0.42), led(0.63)), paint: NAVY_TOP },
    { shape: union(trunk, upper), paint: MIST },
    { shape: lower, paint: ORANGE },
  ];
}

export const PICTURES = [
  { file: 'images/logo.png', size: 128, layers: logo },
  { file: 'images/icons/deploy.png', size: 32, layers: deployIcon, task: 'DatabricksReposDeployV1' },
  { file: 'images/icons/train.png', size: 32, layers: trainIcon, task: 'DatabricksTrainV1' },
  { file: 'images/icons/evaluate.png', size: 32, layers: evaluateIcon, task: 'DatabricksEvaluatePromoteV1' },
  { file: 'images/icons/serving.png', size: 32, layers: servingIcon, task: 'DatabricksServingDeployV1' },
];

/** Nearest-neighbour enlargement, for looking at a 32x32 icon (`--preview DIR`). */
function enlarge(buf, factor) {
  const src = PNG.sync.read(buf);
  const out = new PNG({ width: src.width * factor, height: src.height * factor });
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const s = (Math.floor(y / factor) * src.width + Math.floor(x / factor)) * 4;
      const d = (y * out.width + x) * 4;
      // Show transparency over a light checkerboard.
      const bg = ((x >> 4) + (y >> 4)) % 2 ? 235 : 250;
      const a = src.data[s + 3] / 255;
      for (let c = 0; c < 3; c++) out.data[d + c] = Math.round(src.data[s + c] * a + bg * (1 - a));
      out.data[d + 3] = 255;
    }
  }
  return PNG.sync.write(out);
}

function main() {
  const previewIdx = process.argv.indexOf('--preview');
  const previewDir = previewIdx > 0 ? process.argv[previewIdx + 1] : undefined;
  for (const p of PICTURES) {
    const buf = render(p.size, p.layers());
    const target = path.join(root, p.file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, buf);
    if (p.task) writeFileSync(path.join(root, 'tasks', p.task, 'icon.png'), buf);
    if (previewDir) {
      mkdirSync(previewDir, { recursive: true });
      writeFileSync(path.join(previewDir, path.basename(p.file)), enlarge(buf, p.size === 32 ? 12 : 4));
    }
    console.log(`${p.file} (${p.size}x${p.size}, ${buf.length} bytes)${p.task ? ` -> tasks/${p.task}/icon.png` : ''}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
