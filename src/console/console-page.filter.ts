import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { isDependencyFailure } from '../common/dependency-errors';
import { PAGE_SECURITY_HEADERS } from '../common/html';
import { OAuthError } from '../common/oauth-errors';
import { ConsolePages } from './console-pages.service';
import { CONSOLE_STRINGS } from './console-strings';
import { ConsoleSessionRefused, ConsoleSessionService } from './session/console-session.service';

/** Every error of a console route as a console page with its status: the console is read by people, not by API clients. */
@Catch()
@Injectable()
export class ConsolePageFilter implements ExceptionFilter {
  private readonly logger = new Logger('ConsoleErrors');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessionService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    const { status, description } = this.describe(exception);
    for (const [name, value] of Object.entries({ ...PAGE_SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' })) {
      adapter.setHeader(response, name, value);
    }
    if (exception instanceof ConsoleSessionRefused) {
      this.sessions.clear({ append: (name, value) => adapter.appendHeader(response, name, value) });
    }
    if (exception instanceof OAuthError && exception.headers['Retry-After']) {
      adapter.setHeader(response, 'Retry-After', exception.headers['Retry-After']);
    }
    adapter.reply(response, this.pages.view.error(description), status);
  }

  private describe(exception: unknown): { status: number; description: string } {
    if (exception instanceof ConsoleSessionRefused) return { status: HttpStatus.UNAUTHORIZED, description: CONSOLE_STRINGS.sessionEnded };
    if (exception instanceof OAuthError) return { status: exception.status, description: exception.description };
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      return { status: exception.getStatus(), description: exception.getStatus() === 404 ? 'There is no such page.' : 'The request cannot be served.' };
    }
    if (isDependencyFailure(exception)) {
      this.logger.warn({ msg: 'dependency unavailable', error: (exception as Error)?.message });
      return { status: HttpStatus.SERVICE_UNAVAILABLE, description: 'The service cannot reach its storage right now. Try again shortly.' };
    }
    this.logger.error({ msg: 'unexpected error', error: (exception as Error)?.message, stack: (exception as Error)?.stack?.split('\n').slice(0, 6).join('\n') });
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, description: 'Something went wrong on our side; it has been logged.' };
  }
}
