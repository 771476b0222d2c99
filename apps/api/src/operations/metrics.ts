import { Controller, Get, Header, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@kcflow/auth';
import { projectionLag } from '@kcflow/read-models';
import { INFRASTRUCTURE, type Infrastructure } from '@kcflow/runtime';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (API.md, Operations): requests and their latency by route (commands are
 * the POSTs), projection lag and failures, relay lag. Lag is measured when scraped, so the
 * figures are those of the moment, whichever process runs the projections.
 */
@Injectable()
export class Metrics implements OnModuleInit {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'kcflow_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'kcflow_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'kcflow_' });
    const { store, projections } = infrastructure;
    // One reading of the projections per scrape, shared by the three gauges below.
    let reading: { at: number; rows: Promise<{ name: string; lagEvents: number | null; lagSeconds: number; failed: boolean }[]> } | undefined;
    const read = () => {
      if (!reading || Date.now() - reading.at > 1000) {
        const rows = projections.status().then((statuses) =>
          Promise.all(statuses.map(async (s) => ({ name: s.name, ...(await projectionLag(store, s.position)), failed: s.lastError !== null }))),
        );
        reading = { at: Date.now(), rows };
      }
      return reading.rows;
    };
    const projectionGauge = (name: string, help: string, value: (row: Awaited<ReturnType<typeof read>>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['projection'],
        registers: [this.registry],
        async collect() {
          for (const row of await read()) this.set({ projection: row.name }, value(row));
        },
      });
    projectionGauge('kcflow_projection_lag_events', 'Events after the projection checkpoint', (r) => r.lagEvents ?? Number.NaN);
    projectionGauge('kcflow_projection_lag_seconds', 'Age of the oldest event the projection has not applied', (r) => r.lagSeconds);
    projectionGauge('kcflow_projection_failed', '1 while the projection is stopped by an error', (r) => (r.failed ? 1 : 0));
    new Gauge({
      name: 'kcflow_relay_lag_events',
      help: 'Events in the store not yet published to Kafka by this process (0 without Kafka)',
      registers: [this.registry],
      async collect() {
        const relay = infrastructure.messaging?.relay;
        if (relay) this.set((await relay.lag()).eventsBehind);
      },
    });
  }

  onModuleInit() {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      this.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  }
}

@ApiExcludeController()
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape() {
    return this.metrics.registry.metrics();
  }
}
