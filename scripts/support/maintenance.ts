import 'reflect-metadata';
import { AppConfig, ConfigError, loadConfig } from '@kcflow/config';
import { createLogger, DataDirInUseError, Infrastructure, openInfrastructure } from '@kcflow/runtime';

export type Out = (line: string) => void;

/**
 * What every maintenance command (audit:verify, verify:read-models, projections:rebuild) does
 * around its work: read the api's configuration, open the configured store and read models,
 * close them again. Exit codes: the work's own, 78 for a wrong configuration, 2 when the
 * embedded database is held by a running api.
 */
export async function withInfrastructure(
  env: NodeJS.ProcessEnv,
  out: Out,
  name: string,
  work: (infrastructure: Infrastructure, config: AppConfig) => Promise<number>,
): Promise<number> {
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    out(error.message);
    return 78; // EX_CONFIG
  }
  let infrastructure: Infrastructure;
  try {
    infrastructure = await openInfrastructure(config, createLogger('warn', name));
  } catch (error) {
    const cause = (error as Error).cause;
    if (!(cause instanceof DataDirInUseError)) throw error;
    out(cause.message);
    return 2;
  }
  try {
    return await work(infrastructure, config);
  } finally {
    await infrastructure.close();
  }
}

/** Runs a command when its file is the program, reporting a crash as exit code 1. */
export function runAsProgram(module: NodeModule, name: string, command: (out: Out) => Promise<number>): void {
  if (require.main !== module) return;
  command((line) => process.stdout.write(`${line}\n`)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
