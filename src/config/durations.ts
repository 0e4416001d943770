const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `"90"`, `"90s"`, `"15m"`, `"12h"`, `"30d"` → seconds; undefined when the text is not a duration. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isInteger(text) && text >= 0 ? text : undefined;
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[(match[2] || 's').toLowerCase()];
}

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/** `"20/1m"` → 20 requests per 60 seconds. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const [limitText, windowText, ...rest] = text.split('/');
  if (rest.length > 0 || windowText === undefined || !/^\d+$/.test(limitText.trim())) return undefined;
  const windowSeconds = parseDuration(windowText);
  const limit = Number(limitText);
  if (!windowSeconds || limit < 1) return undefined;
  return { limit, windowSeconds };
}
