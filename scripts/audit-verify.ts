/**
 * `npm run audit:verify`: verifies the hash chain of every stream in the configured event
 * store (the same variables as the api: EVENT_STORE, EVENT_STORE_URL, …). Prints a summary
 * and exits 1 when any stream is broken, naming it and its first broken revision.
 */
import { verifyStore } from '@kcflow/workflow';
import { Out, runAsProgram, withInfrastructure } from './support/maintenance';

export function auditVerify(env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  return withInfrastructure(env, out, 'kcflow-audit-verify', async ({ store }) => {
    const verdict = await verifyStore(store);
    out(`Checked ${verdict.streams} streams, ${verdict.events} events.`);
    for (const { streamId, firstBrokenRevision, events } of verdict.broken) {
      out(`BROKEN ${streamId}: first broken revision ${firstBrokenRevision} (of ${events} events)`);
    }
    out(verdict.valid ? 'All hash chains are intact.' : `${verdict.broken.length} stream(s) altered.`);
    return verdict.valid ? 0 : 1;
  });
}

runAsProgram(module, 'audit:verify', (out) => auditVerify(process.env, out));
