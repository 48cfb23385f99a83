import type { Rng } from './rng';
import { clamp, hsvToRgb } from './synthetic-backgrounds';
import type { FittedShape } from './synthetic-box';

/**
 * The slides' class-dependent background factors, drawn onto the background (never into the mask), each
 * switched on per image with its own probability (its strength) and its own random draws, so the knobs are
 * independent of p and of each other. With every strength 0 nothing here is drawn.
 */
export interface Box {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

/** Shadow length as a share of the box's mean side, and how much it darkens the background. */
const SHADOW_LENGTH = 0.3;
const SHADOW_DARKEN = 0.5;

/**
 * A cast shadow: the object's silhouette shifted in a class-specific direction (class k: angle 2 pi k / K, as
 * if each class stood under its own light) and darkened onto the background. Part of it shows beside the box.
 */
export function drawShadow(
  rgb: Uint8Array,
  size: number,
  label: number,
  classes: number,
  box: Box,
  shifted: (dx: number, dy: number) => FittedShape,
): void {
  const angle = (2 * Math.PI * label) / classes;
  const len = SHADOW_LENGTH * ((box.w + box.h) / 2);
  const dx = Math.round(len * Math.cos(angle));
  const dy = Math.round(len * Math.sin(angle));
  const shadow = shifted(dx, dy);
  for (let y = Math.max(0, box.y0 + dy); y < Math.min(size, box.y0 + dy + box.h); y++)
    for (let x = Math.max(0, box.x0 + dx); x < Math.min(size, box.x0 + dx + box.w); x++) {
      if (!shadow.inside(x + 0.5, y + 0.5)) continue;
      const o = (y * size + x) * 3;
      for (let k = 0; k < 3; k++) rgb[o + k] = Math.round(rgb[o + k]! * SHADOW_DARKEN);
    }
}

/**
 * A co-occurring non-target object: a small bar whose hue and orientation are its class's (class k: hue k / K,
 * angle pi k / K), like a ball next to a dog. Placed at random where it does not touch the object's box, so it
 * stays visible in every background-only variant; skipped when no such place is found in 30 tries (returns
 * whether it was drawn: the co-occurring context label, core/data/context-labels.ts).
 */
export function drawDistractor(
  rgb: Uint8Array,
  size: number,
  label: number,
  classes: number,
  box: Box,
  rng: Rng,
): boolean {
  const len = size * 0.3;
  const half = Math.max(1, size * 0.05);
  const angle = (Math.PI * label) / classes;
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  const color = hsvToRgb(label / classes, 0.9, 0.95);
  const ex = Math.abs(c) * (len / 2) + Math.abs(s) * half;
  const ey = Math.abs(s) * (len / 2) + Math.abs(c) * half;
  for (let attempt = 0; attempt < 30; attempt++) {
    const cx = rng.uniform(0, size);
    const cy = rng.uniform(0, size);
    const apart =
      cx + ex < box.x0 - 1 ||
      cx - ex > box.x0 + box.w + 1 ||
      cy + ey < box.y0 - 1 ||
      cy - ey > box.y0 + box.h + 1;
    if (!apart) continue;
    for (let y = Math.max(0, Math.floor(cy - ey)); y < Math.min(size, Math.ceil(cy + ey)); y++)
      for (let x = Math.max(0, Math.floor(cx - ex)); x < Math.min(size, Math.ceil(cx + ex)); x++) {
        const px = x + 0.5 - cx;
        const py = y + 0.5 - cy;
        if (Math.abs(px * c + py * s) > len / 2 || Math.abs(-px * s + py * c) > half) continue;
        const o = (y * size + x) * 3;
        for (let k = 0; k < 3; k++) rgb[o + k] = Math.round(clamp(color[k]!));
      }
    return true;
  }
  return false;
}
