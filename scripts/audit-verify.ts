/**
 * `npm run audit:verify`: verifies the hash chain of every stream in the configured event
 * store (the same variables as the api: EVENT_STORE, EVENT_STORE_URL, …), and that every
 * snapshot is what folding the events gives. Prints a summary and exits 1 when any stream is
 * broken, naming it and its first broken revision, or any snapshot is false.
 */
import { verifyStore } from '@kcflow/workflow';
import { Out, runAsProgram, withInfrastructure } from './support/maintenance';

export function auditVerify(env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  return withInfrastructure(env, out, 'kcflow-audit-verify', async ({ store, snapshots }) => {
    const verdict = await verifyStore(store, undefined, snapshots);
    out(`Checked ${verdict.streams} streams, ${verdict.events} events, ${verdict.snapshotsChecked} snapshots.`);
    for (const { streamId, firstBrokenRevision, events } of verdict.broken) {
      out(`BROKEN ${streamId}: first broken revision ${firstBrokenRevision} (of ${events} events)`);
    }
    for (const { streamId, revision, foldVersion } of verdict.falseSnapshots) {
      out(`FALSE SNAPSHOT ${streamId} at revision ${revision} (${foldVersion}): not what the events fold to`);
    }
    if (verdict.valid) out('All hash chains are intact, and every snapshot is what the events fold to.');
    if (verdict.broken.length > 0) out(`${verdict.broken.length} stream(s) altered.`);
    if (verdict.falseSnapshots.length > 0) out(`${verdict.falseSnapshots.length} false snapshot(s): the paged history and command loading trust them until removed.`);
    return verdict.valid ? 0 : 1;
  });
}

runAsProgram(module, 'audit:verify', (out) => auditVerify(process.env, out));
