/**
 * `npm run audit:verify`: verifies the hash chain of every stream in the configured event
 * store (the same variables as the api: EVENT_STORE, EVENT_STORE_URL, …). Prints a summary
 * and exits 1 when any stream is broken, naming it and its first broken revision.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig } from '@kcflow/config';
import { createLogger, openInfrastructure } from '@kcflow/runtime';
import { verifyStore } from '@kcflow/workflow';

export async function auditVerify(env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    out(error.message);
    return 78; // EX_CONFIG
  }
  const infrastructure = await openInfrastructure(config, createLogger('warn', 'kcflow-audit-verify'));
  try {
    const verdict = await verifyStore(infrastructure.store);
    out(`Checked ${verdict.streams} streams, ${verdict.events} events.`);
    for (const { streamId, firstBrokenRevision, events } of verdict.broken) {
      out(`BROKEN ${streamId}: first broken revision ${firstBrokenRevision} (of ${events} events)`);
    }
    out(verdict.valid ? 'All hash chains are intact.' : `${verdict.broken.length} stream(s) altered.`);
    return verdict.valid ? 0 : 1;
  } finally {
    await infrastructure.close();
  }
}

if (require.main === module) {
  auditVerify(process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`audit:verify: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
