import { FALLBACK_LOCALE, PAGE_CATALOG, PAGE_STRINGS } from './page-strings';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe('the strings catalog of /device', () => {
  const reference = Object.keys(PAGE_STRINGS).sort();

  it('ships English as the fallback and one more language', () => {
    expect(PAGE_CATALOG[FALLBACK_LOCALE]).toBe(PAGE_STRINGS);
    expect(Object.keys(PAGE_CATALOG)).toEqual(['en', 'de']);
  });

  it.each(Object.entries(PAGE_CATALOG))('%s has every key of the English table and no other', (locale, strings) => {
    const keys = Object.keys(strings);
    expect({ missing: reference.filter((key) => !keys.includes(key)), extra: keys.filter((key) => !reference.includes(key)) }).toEqual({
      missing: [],
      extra: [],
    });
    expect(strings.lang).toBe(locale);
  });

  it.each(Object.entries(PAGE_CATALOG))('%s fills in the same values as English, and leaves no string empty', (_locale, strings) => {
    for (const key of reference as (keyof typeof PAGE_STRINGS)[]) {
      expect([key, placeholders(strings[key])]).toEqual([key, placeholders(PAGE_STRINGS[key])]);
      expect([key, strings[key].trim().length > 0]).toEqual([key, true]);
    }
  });

  it('translates what a person reads, not just the keys', () => {
    const same = (Object.keys(PAGE_STRINGS) as (keyof typeof PAGE_STRINGS)[]).filter((key) => PAGE_CATALOG.de[key] === PAGE_STRINGS[key]);
    // Names and patterns that read the same in German.
    expect(same.sort()).toEqual(['codeLabel', 'codeRowLabel', 'identity', 'siteName', 'startedAt', 'summaryCode', 'withOrganization', 'agentLabel'].sort());
  });
});
