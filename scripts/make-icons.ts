/**
 * Draws the two Teams app icons and writes them as PNG files:
 *   manifest/color.png    192×192, the accent colour with a white "check that turns into an arrow"
 *   manifest/outline.png   32×32, the same symbol in white on a transparent background
 *
 * No image tools are needed: shapes are rasterised with supersampling into RGBA buffers and encoded as
 * PNG with node:zlib (IHDR / IDAT / IEND chunks, CRC-32 per chunk). The output is deterministic, so the
 * committed PNGs can be regenerated at any time:  npx tsx scripts/make-icons.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

/** Keep in sync with `accentColor` in manifest/manifest.template.json (a test checks it). */
export const ACCENT_COLOR = '#3254C5';

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, not premultiplied, row-major. */
  data: Uint8Array;
}

type Point = readonly [number, number];

/** The symbol in its own coordinate space: a check mark whose long arm ends in an arrowhead. */
const SYMBOL: readonly (readonly Point[])[] = [
  [
    [0, 50],
    [32, 82],
    [92, 22],
  ],
  [
    [52, 22],
    [92, 22],
    [92, 62],
  ],
];

function distanceToSegment(px: number, py: number, a: Point, b: Point): number {
  const [ax, ay] = a;
  const [bx, by] = b;
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  const t =
    lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / lengthSquared));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Returns an "inside the stroked symbol" test in pixel coordinates, centred in a size×size canvas. */
function symbolShape(
  size: number,
  symbolWidth: number,
  strokeWidth: number,
): (x: number, y: number) => boolean {
  const points = SYMBOL.flat();
  const minX = Math.min(...points.map((p) => p[0]));
  const maxX = Math.max(...points.map((p) => p[0]));
  const minY = Math.min(...points.map((p) => p[1]));
  const maxY = Math.max(...points.map((p) => p[1]));
  const scale = symbolWidth / (maxX - minX);
  const offsetX = size / 2 - ((minX + maxX) / 2) * scale;
  const offsetY = size / 2 - ((minY + maxY) / 2) * scale;
  const segments: [Point, Point][] = [];
  for (const line of SYMBOL) {
    for (let i = 1; i < line.length; i++) {
      const a = line[i - 1]!;
      const b = line[i]!;
      segments.push([
        [a[0] * scale + offsetX, a[1] * scale + offsetY],
        [b[0] * scale + offsetX, b[1] * scale + offsetY],
      ]);
    }
  }
  const radius = strokeWidth / 2;
  return (x, y) => segments.some(([a, b]) => distanceToSegment(x, y, a, b) <= radius);
}

/** Fraction (0..1) of the pixel at (px, py) covered by the shape, from an n×n grid of samples. */
function coverage(inside: (x: number, y: number) => boolean, px: number, py: number, n = 8): number {
  let hits = 0;
  for (let sy = 0; sy < n; sy++) {
    for (let sx = 0; sx < n; sx++) {
      if (inside(px + (sx + 0.5) / n, py + (sy + 0.5) / n)) hits++;
    }
  }
  return hits / (n * n);
}

function parseHexColor(hex: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [Number.parseInt(match[1]!, 16), Number.parseInt(match[2]!, 16), Number.parseInt(match[3]!, 16)];
}

/** 192×192, opaque: accent background, white symbol (anti-aliased by blending into the background). */
export function renderColorIcon(size = 192, accent = ACCENT_COLOR): RgbaImage {
  const [r, g, b] = parseHexColor(accent);
  const inside = symbolShape(size, size * 0.56, size * 0.095);
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const c = coverage(inside, x, y);
      const i = (y * size + x) * 4;
      data[i] = Math.round(r + (255 - r) * c);
      data[i + 1] = Math.round(g + (255 - g) * c);
      data[i + 2] = Math.round(b + (255 - b) * c);
      data[i + 3] = 255;
    }
  }
  return { width: size, height: size, data };
}

/** 32×32: white symbol on transparent; anti-aliasing only through alpha, so every pixel stays white. */
export function renderOutlineIcon(size = 32): RgbaImage {
  const inside = symbolShape(size, size * 0.74, size * 0.1);
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const alpha = Math.round(coverage(inside, x, y) * 255);
      const i = (y * size + x) * 4;
      if (alpha > 0) {
        data[i] = 255;
        data[i + 1] = 255;
        data[i + 2] = 255;
        data[i + 3] = alpha;
      }
    }
  }
  return { width: size, height: size, data };
}

function chunk(type: string, body: Uint8Array): Buffer {
  const typeAndBody = Buffer.concat([Buffer.from(type, 'latin1'), body]);
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  typeAndBody.copy(out, 4);
  out.writeUInt32BE(crc32(typeAndBody) >>> 0, 8 + body.length);
  return out;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Encodes an RGBA image as a PNG (8-bit truecolour with alpha, no interlace, filter type 0 on every row). */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) throw new Error('pixel buffer does not match width × height × 4');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type: None
    Buffer.from(data.buffer, data.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

export const MANIFEST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'manifest');

export function writeIcons(dir = MANIFEST_DIR): string[] {
  const files = [
    [join(dir, 'color.png'), encodePng(renderColorIcon())],
    [join(dir, 'outline.png'), encodePng(renderOutlineIcon())],
  ] as const;
  for (const [path, png] of files) writeFileSync(path, png);
  return files.map(([path]) => path);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const path of writeIcons()) console.log(`wrote ${path}`);
}
