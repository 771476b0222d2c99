import { describeReports } from './reports.suite';

describe('Reports over HTTP on the embedded PGlite store', () => describeReports('pglite'));
