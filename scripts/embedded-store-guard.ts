import type { AppConfig } from '@kcflow/config';

/**
 * PGlite's data folder may be opened by one process at a time, and PGlite does not lock it:
 * a script opening it while the api runs would corrupt it. This is the check the read-model
 * scripts make first — a heuristic (it asks the api's health route on PORT), so an api on
 * another port goes unnoticed; `POST /projections/:name/rebuild` is the way while it runs.
 * Returns why the script must not go on, or undefined.
 */
export async function embeddedStoreInUse(config: AppConfig): Promise<string | undefined> {
  const folders = [config.eventStore, config.readModels].flatMap((c) =>
    c.kind === 'pglite' && c.dataDir && c.dataDir !== 'memory://' ? [c.dataDir] : [],
  );
  if (folders.length === 0) return undefined;
  try {
    const answer = await fetch(`http://127.0.0.1:${config.port}/health/live`, { signal: AbortSignal.timeout(1_000) });
    if (!answer.ok) return undefined;
  } catch {
    return undefined;
  }
  return (
    `An api answers on port ${config.port}, and it holds the embedded database in ${folders[0]}, which only one process may open. ` +
    'Stop the api first, or rebuild through it: POST /projections/<name>/rebuild (admin).'
  );
}
