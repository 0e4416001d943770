import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DevicegateAuthGuard } from './devicegate-auth.guard';
import {
  DEVICEGATE_AUTH_OPTIONS,
  type DevicegateAuthAsyncOptions,
  type DevicegateAuthOptions,
  resolveOptions,
} from './options';
import { DevicegateTokenVerifier } from './token-verifier';

const SHARED: Provider[] = [DevicegateTokenVerifier, DevicegateAuthGuard, { provide: APP_GUARD, useExisting: DevicegateAuthGuard }];

/**
 * Protects the routes of a NestJS service with devicegate bearer tokens,
 * checked by RFC 7662 introspection with a bounded cache. Import it once, in
 * the root module; it is global, so the decorators work in every module.
 */
@Module({})
export class DevicegateAuthModule {
  static forRoot(options: DevicegateAuthOptions): DynamicModule {
    return {
      module: DevicegateAuthModule,
      global: true,
      providers: [{ provide: DEVICEGATE_AUTH_OPTIONS, useValue: resolveOptions(options) }, ...SHARED],
      exports: [DEVICEGATE_AUTH_OPTIONS, DevicegateTokenVerifier, DevicegateAuthGuard],
    };
  }

  static forRootAsync(options: DevicegateAuthAsyncOptions): DynamicModule {
    const { useFactory, global } = options;
    return {
      module: DevicegateAuthModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: DEVICEGATE_AUTH_OPTIONS,
          inject: options.inject ?? [],
          useFactory: async (...args: unknown[]) => resolveOptions({ ...(await useFactory(...args)), global }),
        },
        ...SHARED,
      ],
      exports: [DEVICEGATE_AUTH_OPTIONS, DevicegateTokenVerifier, DevicegateAuthGuard],
    };
  }
}
