import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

const FAVICON = readFileSync(join(__dirname, 'assets', 'favicon.ico'));

/** Browsers ask every page's origin for /favicon.ico; a 32×32 padlock answers instead of a 404 in every log. */
@ApiExcludeController()
@Controller()
export class FaviconController {
  @Get('favicon.ico')
  @Header('Cache-Control', 'public, max-age=86400')
  @Header('X-Content-Type-Options', 'nosniff')
  favicon(): StreamableFile {
    // Not a bare Buffer: Nest's Express adapter hands any object to res.json.
    return new StreamableFile(FAVICON, { type: 'image/x-icon', length: FAVICON.length });
  }
}
