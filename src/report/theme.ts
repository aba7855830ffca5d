/**
 * Light or dark from a host background colour: Azure DevOps hands its theme to an extension frame as CSS
 * variable values (e.g. `background-color: rgba(32, 31, 30, 1)`), not as a theme name.
 */

/** Parses `#rgb`, `#rrggbb`, `rgb(r, g, b)` and `rgba(r, g, b, a)`; undefined otherwise. */
export function parseColour(value: string): [number, number, number] | undefined {
  const s = value.trim().toLowerCase();
  let m = /^#([0-9a-f]{3})$/.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as [number, number, number];
  m = /^#([0-9a-f]{6})(?:[0-9a-f]{2})?$/.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as [number, number, number];
  m = /^rgba?\(\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)/.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return undefined;
}

/** 'dark' when the background's relative luminance (WCAG) is under 0.4, 'light' above, undefined if unreadable. */
export function themeFromBackground(value: string | undefined): 'light' | 'dark' | undefined {
  if (!value) return undefined;
  const rgb = parseColour(value);
  if (!rgb) return undefined;
  const [r, g, b] = rgb.map((c) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.4 ? 'dark' : 'light';
}
