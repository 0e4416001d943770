import { PAGE_SECURITY_HEADERS } from '../common/html';
import type { AppConfig, OperatorDefinition } from '../config/app-config';
import { DevicePageController } from './device-page.controller';

function controller(operator: OperatorDefinition): DevicePageController {
  return new DevicePageController({ operator, publicUrl: 'http://127.0.0.1:8080', connectors: [], localUsers: [], scopes: [] } as unknown as AppConfig);
}

function render(page: DevicePageController, acceptLanguage?: string, browserId?: string) {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const html = page.page({ set: (name, value) => (headers[name] = value) }, { append: (_name, value) => cookies.push(value) }, browserId, acceptLanguage);
  return { html, headers, cookies };
}

describe('DevicePageController', () => {
  it('sends the page security headers, Vary: Accept-Language and the chosen Content-Language', () => {
    const { html, headers } = render(controller({}), 'de-CH, en;q=0.5');
    expect(headers).toEqual({ ...PAGE_SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', Vary: 'Accept-Language', 'Content-Language': 'de' });
    expect(html).toContain('<html lang="de">');
  });

  it('gives a browser without an id a random, HttpOnly one for every path, and keeps an id it has', () => {
    const page = controller({});
    const { cookies } = render(page);
    expect(cookies).toHaveLength(1);
    const [pair, ...attributes] = cookies[0].split('; ');
    expect(pair).toMatch(/^devicegate_browser=[\w-]{43}$/);
    expect(attributes).toEqual(['Path=/', `Max-Age=${400 * 24 * 3600}`, 'HttpOnly', 'SameSite=Lax']);
    expect(render(page, undefined, pair.split('=')[1]).cookies).toEqual([]);
    expect(render(page, undefined, 'forged').cookies).toHaveLength(1);
    expect(render(page).cookies[0]).not.toBe(cookies[0]);
  });

  it('lets images come from the origin of an https logo_url, and from nowhere else new', () => {
    const { html, headers } = render(controller({ name: 'Acme', logo: { url: 'https://cdn.acme.example:8443/brand/logo.svg?v=2' } }));
    expect(headers['Content-Security-Policy']).toBe(
      PAGE_SECURITY_HEADERS['Content-Security-Policy'].replace("img-src 'self'", "img-src 'self' https://cdn.acme.example:8443"),
    );
    expect(html).toContain('<img class="logo" src="https://cdn.acme.example:8443/brand/logo.svg?v=2" alt="">');
  });

  it('links a logo_file by its content, and serves it with its type only when there is one', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>');
    const page = controller({ logo: { file: svg, contentType: 'image/svg+xml' } });
    const { html, headers } = render(page);
    expect(headers['Content-Security-Policy']).toBe(PAGE_SECURITY_HEADERS['Content-Security-Policy']);
    expect(html).toMatch(/<img class="logo" src="\/device\/logo\?v=[0-9a-f]{12}" alt="">/);
    const file = page.logoFile();
    expect(file.getHeaders().type).toBe('image/svg+xml');
    expect(() => controller({}).logoFile()).toThrow('Not Found');
  });
});
