import { copyFileSync, mkdirSync } from 'node:fs';
import { source as axeSource } from 'axe-core';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import type { DeviceGateHttp, Reply } from './http';

// The DOM, as the functions below that run inside the page use it: the project compiles without lib "dom".
interface DomElement {
  id: string;
  tagName: string;
  textContent: string | null;
  parentElement: DomElement | null;
  childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
  labels?: ArrayLike<unknown> | null;
  type?: string;
  getAttribute(name: string): string | null;
  getClientRects(): ArrayLike<unknown>;
}
declare const document: { activeElement: DomElement | null; querySelectorAll(selector: string): ArrayLike<DomElement> };
declare function getComputedStyle(element: DomElement): {
  color: string;
  backgroundColor: string;
  visibility: string;
  fontSize: string;
  fontWeight: string;
};
const TEXT_NODE = 3;

/** Debian's Chromium (installed by .ci/run), unless CHROMIUM_PATH names another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Git-ignored with the rest of test-output/. */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'test-output', 'screenshots');

const CONTEXT_DEFAULTS: BrowserContextOptions = {
  viewport: { width: 900, height: 640 },
  locale: 'en-US',
  timezoneId: 'UTC',
  // A person's browser: no headless marker in the user agent the page is shown.
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36',
};

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface BrowserSession {
  readonly browser: Browser;
  /** This test's context: its own cookies and storage. */
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught script errors and Content-Security-Policy refusals seen on any page of this test's contexts. */
  readonly problems: string[];
  /** Another isolated context (another person, or a browser behind another address). */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
}

/**
 * One Chromium per spec file, a fresh context and page per test. After each
 * test the contexts close, and the test fails if a page threw or broke its
 * Content-Security-Policy, unless it emptied `problems` itself.
 */
export function useBrowser(options: BrowserContextOptions = {}): BrowserSession {
  let launching: Promise<Browser> | undefined;
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  let page: Page | undefined;
  const problems: string[] = [];

  async function newContext(extra: BrowserContextOptions = {}): Promise<BrowserContext> {
    if (!browser) throw new Error('the browser is not running');
    const context = await browser.newContext({ ...CONTEXT_DEFAULTS, ...options, ...extra });
    context.on('page', watch);
    contexts.push(context);
    return context;
  }

  function watch(watched: Page): void {
    watched.on('pageerror', (error) => problems.push(`script error on ${watched.url()}: ${error.message}`));
    watched.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) problems.push(`CSP on ${watched.url()}: ${message.text()}`);
    });
  }

  // Launched without waiting, so the spec's own beforeAll (an app, an IdP) starts meanwhile.
  beforeAll(() => {
    launching = launchBrowser();
    launching.catch(() => undefined);
  });

  afterAll(async () => {
    await (await launching?.catch(() => undefined))?.close();
  });

  beforeEach(async () => {
    browser ??= await launching;
    problems.length = 0;
    page = await (await newContext()).newPage();
  });

  afterEach(async () => {
    for (const device of polling) device.stop();
    const closing = contexts;
    contexts = [];
    page = undefined;
    await Promise.all(closing.map((context) => context.close()));
    expect(problems).toEqual([]);
  });

  return {
    get browser() {
      if (!browser) throw new Error('the browser is not running');
      return browser;
    },
    get context() {
      if (!contexts[0]) throw new Error('no context outside a test');
      return contexts[0];
    },
    get page() {
      if (!page) throw new Error('no page outside a test');
      return page;
    },
    problems,
    newContext,
  };
}

/** Where the README's screenshots live. */
export const DOCS_DIR = join(__dirname, '..', '..', 'docs');

/**
 * A full-page PNG under test-output/screenshots/ for a reviewer; returns its
 * path. The console's pages (`console-*`) are the README's screenshots: with
 * DOCS_SCREENSHOTS=1 they are written to docs/ as well, so a run regenerates
 * them on purpose rather than on every test run.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  if (process.env.DOCS_SCREENSHOTS === '1' && name.startsWith('console-')) copyFileSync(path, join(DOCS_DIR, `${name}.png`));
  return path;
}

/** Devices still polling; a test that fails before its device is done stops it in useBrowser's afterEach. */
const polling = new Set<PollingDevice>();

export interface PollingDevice {
  /** The first answer that is not authorization_pending or slow_down. */
  outcome: Promise<Reply>;
  /** How many times the device asked so far. */
  readonly polls: number;
  /** Resolves once the device has asked `count` times (so a click is known to happen while it waits). */
  polled(count: number): Promise<void>;
  stop(): void;
}

/**
 * What a device does while its person is in the browser: RFC 8628 §3.4
 * polls at the interval it was given, slower after slow_down, until an
 * answer other than "keep waiting" (or until `stop()` / `giveUpAfterMs`).
 */
export function pollInBackground(
  http: DeviceGateHttp,
  clientId: string,
  started: { device_code: string; interval: number },
  giveUpAfterMs = 25_000,
): PollingDevice {
  let stopped = false;
  let polls = 0;
  let timer: NodeJS.Timeout | undefined;
  let wake = () => {};
  const waiters: { count: number; resolve: () => void }[] = [];
  const deadline = Date.now() + giveUpAfterMs;
  const wait = (seconds: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, seconds * 1000);
    });
  const outcome = (async () => {
    let interval = started.interval;
    for (;;) {
      await wait(interval);
      if (stopped) throw new Error('the device stopped polling');
      if (Date.now() > deadline) throw new Error(`the device gave up after ${polls} polls`);
      const reply = await http.poll(clientId, started.device_code);
      polls += 1;
      for (const waiter of waiters.filter((candidate) => candidate.count <= polls)) waiter.resolve();
      if (reply.body?.error === 'slow_down') interval = Number(reply.body.interval) || interval + 5;
      else if (reply.body?.error !== 'authorization_pending') return reply;
    }
  })();
  // A test that fails before awaiting the outcome must not leave an unhandled rejection behind.
  outcome.catch(() => undefined).finally(() => polling.delete(device));
  const device: PollingDevice = {
    outcome,
    get polls() {
      return polls;
    },
    polled(count) {
      if (polls >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      wake();
    },
  };
  polling.add(device);
  return device;
}

/**
 * A small audit of what is visible on the page now: one h1, every field
 * labelled, every button and link named, and text contrast of at least
 * WCAG AA (4.5:1, or 3:1 for large text) against the background it sits on.
 */
export function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate((textNode) => {
    const problems: string[] = [];
    const name = (element: DomElement) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}`;
    const shown = (element: DomElement) => element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
    const channels = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = (color: string) => {
      const [r, g, b] = channels(color).map((value) => {
        const c = value / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const backgroundOf = (element: DomElement | null): string => {
      for (let at = element; at; at = at.parentElement) {
        const color = getComputedStyle(at).backgroundColor;
        const alpha = channels(color)[3];
        if (alpha === undefined || alpha > 0.5) return color;
      }
      return 'rgb(255, 255, 255)';
    };

    const headings = Array.from(document.querySelectorAll('h1')).filter(shown);
    if (headings.length !== 1) problems.push(`${headings.length} visible h1 elements`);
    for (const field of Array.from(document.querySelectorAll('input, select, textarea'))) {
      if (shown(field) && field.type !== 'hidden' && !field.labels?.length) problems.push(`${name(field)} has no label`);
    }
    for (const control of Array.from(document.querySelectorAll('button, a[href]'))) {
      if (shown(control) && !control.textContent?.trim() && !control.getAttribute('aria-label')) problems.push(`${name(control)} has no name`);
    }
    for (const element of Array.from(document.querySelectorAll('body *'))) {
      const ownText = Array.from(element.childNodes).some((node) => node.nodeType === textNode && node.textContent?.trim());
      if (!ownText || !shown(element)) continue;
      const style = getComputedStyle(element);
      const [lighter, darker] = [luminance(style.color), luminance(backgroundOf(element))].sort((a, b) => b - a);
      const ratio = (lighter + 0.05) / (darker + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push(`${name(element)} "${element.textContent?.trim().slice(0, 30)}": contrast ${ratio.toFixed(2)}:1`);
    }
    return problems;
  }, TEXT_NODE);
}

/** The id of the element that has the keyboard focus ('' for one without an id). */
export function focusedId(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.id ?? '');
}

/** The axe-core rules of WCAG 2.0 and 2.1, levels A and AA. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
interface AxeResults {
  violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[] }[] }[];
}
declare const axe: { run(context: unknown, options: unknown): Promise<AxeResults> } | undefined;

/**
 * axe-core's serious and critical WCAG 2.1 AA violations on the page as it
 * is now, one line per element. axe is injected as an inline script, so the
 * page's context must be opened with `bypassCSP: true`.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => typeof axe !== 'undefined'))) await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate((tags) => axe!.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }), WCAG_21_AA);
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .flatMap((violation) => violation.nodes.map((node) => `${violation.id} (${violation.impact}): ${violation.help} at ${node.target.join(' ')}`));
}
