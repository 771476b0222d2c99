/**
 * The architecture's layer rules, checked by `npm run lint:layers` (part of `npm test`).
 * Paths match `libs/<name>/src/` wherever it sits, so test/fixtures/layer-violations can
 * prove each rule really fails when broken (test/architecture/layers.test.ts).
 */
const lib = (name) => `(^|/)libs/${name}/src/`;
const ADAPTER_PACKAGES = 'node_modules/(pg|@electric-sql|@eventstore|kafkajs|fastify|@fastify|@nestjs/platform-fastify|exceljs)/';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'The domain is pure TypeScript: no NestJS, no I/O, no other library of ours.',
      severity: 'error',
      from: { path: lib('domain') },
      to: { pathNot: [lib('domain')], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflow-knows-only-ports',
      comment: 'The application layer talks to the store through its port, never to an adapter, a database or the HTTP edge.',
      severity: 'error',
      from: { path: lib('workflow') },
      to: {
        path: [`${lib('(sql|read-models|messaging|runtime|auth|config)')}`, '(^|/)apps/', ADAPTER_PACKAGES, `${lib('event-store')}(?!(event-store\\.port|port/index)\\.ts$)`],
      },
    },
    {
      name: 'libraries-do-not-import-apps',
      severity: 'error',
      from: { path: '(^|/)libs/' },
      to: { path: '(^|/)apps/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^|/)dist/' },
  },
};
