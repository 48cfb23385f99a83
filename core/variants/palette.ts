/** bg_color's palette (RGB), in the order the report's axis shows it. */
export const PALETTE = {
  black: [0, 0, 0],
  white: [255, 255, 255],
  gray: [128, 128, 128],
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [240, 220, 40],
  purple: [150, 60, 190],
} as const satisfies Record<string, readonly [number, number, number]>;
export type PaletteColor = keyof typeof PALETTE;
