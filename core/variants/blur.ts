/**
 * Gaussian blur of the background only: a normalized convolution that weights each pixel by `weight`
 * (1 = background, 0 = foreground), so no foreground colour bleeds into the blurred background.
 * Separable, kernel radius ceil(3 sigma), edges handled by the same normalization.
 */
export function maskedGaussianBlur(
  rgb: Uint8Array,
  weight: Uint8Array,
  width: number,
  height: number,
  sigma: number,
): Uint8Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  for (let i = -radius; i <= radius; i++) kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  const n = width * height;
  // channels: r*w, g*w, b*w, w
  const a = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = weight[i] ? 1 : 0;
    a[i * 4] = rgb[i * 3]! * w;
    a[i * 4 + 1] = rgb[i * 3 + 1]! * w;
    a[i * 4 + 2] = rgb[i * 3 + 2]! * w;
    a[i * 4 + 3] = w;
  }
  const b = new Float32Array(n * 4);
  // horizontal
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0; // prettier-ignore
      const lo = Math.max(0, x - radius);
      const hi = Math.min(width - 1, x + radius);
      for (let xx = lo; xx <= hi; xx++) {
        const k = kernel[xx - x + radius]!;
        const o = (y * width + xx) * 4;
        s0 += a[o]! * k;
        s1 += a[o + 1]! * k;
        s2 += a[o + 2]! * k;
        s3 += a[o + 3]! * k;
      }
      const o = (y * width + x) * 4;
      b[o] = s0;
      b[o + 1] = s1;
      b[o + 2] = s2;
      b[o + 3] = s3;
    }
  }
  const out = new Uint8Array(rgb);
  // vertical, then normalize; foreground pixels keep their original values
  for (let y = 0; y < height; y++) {
    const lo = Math.max(0, y - radius);
    const hi = Math.min(height - 1, y + radius);
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!weight[p]) continue;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0; // prettier-ignore
      for (let yy = lo; yy <= hi; yy++) {
        const k = kernel[yy - y + radius]!;
        const o = (yy * width + x) * 4;
        s0 += b[o]! * k;
        s1 += b[o + 1]! * k;
        s2 += b[o + 2]! * k;
        s3 += b[o + 3]! * k;
      }
      out[p * 3] = Math.round(s0 / s3);
      out[p * 3 + 1] = Math.round(s1 / s3);
      out[p * 3 + 2] = Math.round(s2 / s3);
    }
  }
  return out;
}
