import { negotiateLocale } from './page-locale';

const AVAILABLE = ['en', 'de'];
const choose = (header: string | undefined) => negotiateLocale(header, AVAILABLE, 'en');

describe('negotiateLocale (Accept-Language)', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['de', 'de'],
    ['DE', 'de'],
    ['de-DE', 'de'],
    ['de-AT,de;q=0.9,en;q=0.8', 'de'],
    ['en-US,en;q=0.9,de;q=0.8', 'en'],
    ['fr-FR,fr;q=0.9', 'en'],
    ['fr-FR,fr;q=0.9,de;q=0.5', 'de'],
  ])('%p → %s', (header, locale) => {
    expect(choose(header)).toBe(locale);
  });

  it('honours q-values over the order of the header', () => {
    expect(choose('en;q=0.4, de;q=0.8')).toBe('de');
    expect(choose('de;q=0.5, en')).toBe('en');
    expect(choose('en;q=0.7, de;q=0.7')).toBe('en');
    expect(choose('de;q=0.7, en;q=0.7')).toBe('de');
    expect(choose('de ; Q=1.0 , en;q=0.999')).toBe('de');
  });

  it('never picks a language refused with q=0, even through *', () => {
    expect(choose('de;q=0')).toBe('en');
    expect(choose('en;q=0, *')).toBe('de');
    expect(choose('*')).toBe('en');
    expect(choose('*;q=0.1, de')).toBe('de');
  });

  it('ignores ranges it cannot read, and falls back to English on nonsense', () => {
    expect(choose('de;q=2, en;q=0.1')).toBe('en');
    expect(choose('de;q=abc')).toBe('en');
    expect(choose('<script>, de')).toBe('de');
    expect(choose(';;;,,,')).toBe('en');
    expect(choose('x'.repeat(10_000))).toBe('en');
    expect(choose(`${'fr,'.repeat(100)}de`)).toBe('en');
  });
});
