/**
 * The hub's one prom-client registry. Every module registers its metrics here, and `GET /metrics` on the API role
 * serves it, so a metric added anywhere in the hub shows up without touching the route.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

// Process metrics (CPU, memory, event loop lag, open handles) under their standard prom-client names.
collectDefaultMetrics({ register: metricsRegistry });
