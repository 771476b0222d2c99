import { describeLifecycle } from './lifecycle.suite';

describe('KCFlow over HTTP on the embedded PGlite store', () => describeLifecycle('pglite'));
