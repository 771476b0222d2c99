// One Jest config, four projects: `unit` (pure, no services), `contract` (every store
// adapter against one suite), `e2e` (the real app over HTTP on real databases) and `topology`
// (api and worker as separate processes); `browser`: the web console in real Chromium.
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
swc.jsc.baseUrl = __dirname;

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(ts|js)$': ['@swc/jest', { ...swc, swcrc: false }] },
  // These ship only ES modules, which Node 20 can require() but Jest's module system cannot.
  transformIgnorePatterns: ['/node_modules/(?!(jose|content-disposition)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/test/architecture/**/*.test.ts'] },
    { ...shared, displayName: 'contract', testMatch: ['<rootDir>/test/contract/**/*.test.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    // The split topology: the built api and worker as real processes on PostgreSQL, killed mid-load.
    { ...shared, displayName: 'topology', testMatch: ['<rootDir>/test/topology/**/*.test.ts'] },
    // The web console in real Chromium (Debian's chromium, playwright-core) against the built server.
    { ...shared, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'] },
  ],
};
