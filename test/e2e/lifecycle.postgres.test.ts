import { describeWithPostgres } from '../support/services';
import { describeLifecycle } from './lifecycle.suite';

describeWithPostgres('KCFlow over HTTP on PostgreSQL', () => describeLifecycle('postgres'));
