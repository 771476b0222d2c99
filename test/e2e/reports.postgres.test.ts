import { describeWithPostgres } from '../support/services';
import { describeReports } from './reports.suite';

describeWithPostgres('Reports over HTTP on PostgreSQL', () => describeReports('postgres'));
