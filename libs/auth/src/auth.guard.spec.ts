import { Controller, Get } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Logger } from 'pino';
import { Access, CurrentActor, Public } from './access.decorators';
import type { Actor } from './actor';
import { AuthModule } from './auth.module';
import { bearerToken } from './auth.guard';
import { DEV_JWT_SECRET, signDevToken } from './dev-token';
import { JwtVerifier } from './jwt-verifier';

@Controller('budget')
@Access('programmes.budget')
class BudgetController {
  @Get()
  show(@CurrentActor() actor: Actor) {
    return { actor };
  }

  @Get('brochure')
  @Public()
  brochure() {
    return { open: true };
  }
}

@Controller()
class LooseController {
  @Get('forgotten')
  forgotten() {
    return { leaked: true };
  }

  @Get('health')
  @Public()
  health() {
    return { ok: true };
  }
}

describe('AuthGuard (global, through AuthModule)', () => {
  let app: NestFastifyApplication;
  const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AuthModule.forRoot({ jwtSecret: DEV_JWT_SECRET, logger: logger as unknown as Logger })],
      controllers: [BudgetController, LooseController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    // As the api's rate limiter does: verify the token before the guard runs.
    const verifier = app.get(JwtVerifier);
    app.getHttpAdapter().getInstance().addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (token) await verifier.verifyForRequest(request, token).catch(() => undefined);
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(() => app.close());

  const get = async (url: string, authorization?: string) =>
    app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
  const bearer = async (roles: Actor['roles'], expiresIn?: string) =>
    `Bearer ${await signDevToken({ sub: 'u1', roles, name: 'Lan', expiresIn }, DEV_JWT_SECRET)}`;

  it('lets an allowed role in and hands the verified actor to the handler', async () => {
    const response = await get('/budget', await bearer(['finance']));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ actor: { id: 'u1', roles: ['finance'], name: 'Lan' } });
  });

  it('answers 403 to a valid token without an allowed role', async () => {
    const response = await get('/budget', await bearer(['applicant', 'reviewer']));
    expect(response.statusCode).toBe(403);
    expect(response.json().message).toBe('This action (programmes.budget) needs one of the roles: admin, committee, finance, inspector');
  });

  it('answers 401 with a bearer challenge when there is no token', async () => {
    const response = await get('/budget');
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="kcflow"');
  });

  it.each([
    ['an expired token', async () => bearer(['finance'], '-1h'), 'token has expired'],
    ['a garbled token', async () => 'Bearer not.a.jwt', 'malformed token'],
    ['another scheme', async () => 'Basic YWxpY2U6c2VjcmV0', 'malformed Authorization header'],
  ])('answers 401 with error="invalid_token" to %s', async (_case, authorization, reason) => {
    const response = await get('/budget', await authorization());
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="kcflow", error="invalid_token", error_description="${reason}"`);
  });

  it('verifies the token once per request when a hook before the guard verified it already', async () => {
    const verifications = jest.spyOn(app.get(JwtVerifier) as unknown as { verifyToken(token: string): Promise<unknown> }, 'verifyToken');
    try {
      const authorization = await bearer(['finance']);
      expect((await get('/budget', authorization)).statusCode).toBe(200);
      expect(verifications).toHaveBeenCalledTimes(1);
      expect((await get('/budget', authorization)).statusCode).toBe(200);
      expect(verifications).toHaveBeenCalledTimes(2);
      expect((await get('/budget', await bearer(['finance'], '-1h'))).statusCode).toBe(401);
      expect(verifications).toHaveBeenCalledTimes(3);
    } finally {
      verifications.mockRestore();
    }
  });

  it('opens @Public routes without a token, a handler overriding its controller', async () => {
    expect((await get('/health')).statusCode).toBe(200);
    expect((await get('/budget/brochure')).statusCode).toBe(200);
  });

  it('fails closed: a route without @Access or @Public is denied even to an admin, and logged as a bug', async () => {
    logger.error.mockClear();
    const response = await get('/forgotten', await bearer(['admin']));
    expect(response.statusCode).toBe(403);
    expect(response.json().message).toBe('Access to this route is not configured');
    expect(logger.error).toHaveBeenCalledWith({ route: 'LooseController.forgotten' }, expect.stringContaining('neither @Access nor @Public'));
  });
});
