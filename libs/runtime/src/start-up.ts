import { AppConfig, ConfigError, loadConfig } from '@kcflow/config';
import type { Logger } from 'pino';
import { Infrastructure, openInfrastructure } from './infrastructure';

/** The configuration, or the process ends naming every wrong variable (exit 78, EX_CONFIG). */
export function configOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(78);
  }
}

/** The store and read models, or the process ends saying which one and which variable (exit 1). */
export async function infrastructureOrExit(config: AppConfig, logger: Logger, processName: string): Promise<Infrastructure> {
  try {
    return await openInfrastructure(config, logger.child({ component: 'projections' }));
  } catch (error) {
    logger.fatal({ err: error }, 'cannot open the event store or the read-model database');
    console.error(`${processName} cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
}
