import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import pino, { type Logger } from 'pino';
import { AuthGuard } from './auth.guard';
import { JwtVerifier, type AuthOptions } from './jwt-verifier';

export interface AuthModuleOptions extends AuthOptions {
  /** Where refused tokens and undeclared routes are logged; a pino logger named "auth" by default. */
  logger?: Logger;
}

/** Provides the JwtVerifier and registers AuthGuard as the global guard. */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    const { logger = pino({ name: 'auth' }), ...authOptions } = options;
    return {
      module: AuthModule,
      global: true,
      providers: [
        { provide: JwtVerifier, useFactory: () => new JwtVerifier(authOptions) },
        {
          provide: APP_GUARD,
          useFactory: (reflector: Reflector, verifier: JwtVerifier) => new AuthGuard(reflector, verifier, logger),
          inject: [Reflector, JwtVerifier],
        },
      ],
      exports: [JwtVerifier],
    };
  }
}
