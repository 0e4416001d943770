/** Ranges read from one Accept-Language header, at most; a browser sends a handful. */
const MAX_RANGES = 32;
const RANGE = /^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/i;
const QUALITY = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

/**
 * The page language for an `Accept-Language` header (RFC 9110 §12.5.4):
 * the range with the highest q-value that one of `available` matches, by
 * the whole tag or its primary subtag (`de-AT` → `de`); `q=0` refuses a
 * language; ties keep the header's order; otherwise `fallback`.
 */
export function negotiateLocale(header: string | undefined, available: readonly string[], fallback: string): string {
  const ranges = (header ?? '')
    .split(',')
    .slice(0, MAX_RANGES)
    .map((part, order) => {
      const [tag, ...parameters] = part.split(';').map((piece) => piece.trim());
      const q = parameters.find((parameter) => /^q=/i.test(parameter))?.slice(2);
      return { tag: tag.toLowerCase(), quality: q === undefined ? 1 : QUALITY.test(q) ? Number(q) : -1, order };
    })
    .filter((range) => RANGE.test(range.tag) && range.quality >= 0);
  const refused = new Set(ranges.filter((range) => range.quality === 0).map((range) => range.tag));
  const wanted = ranges.filter((range) => range.quality > 0).sort((a, b) => b.quality - a.quality || a.order - b.order);
  for (const range of wanted) {
    if (range.tag === '*') return available.find((locale) => !refused.has(locale)) ?? fallback;
    const match = available.find((locale) => locale === range.tag || locale === range.tag.split('-')[0]);
    if (match && !refused.has(match)) return match;
  }
  return fallback;
}
