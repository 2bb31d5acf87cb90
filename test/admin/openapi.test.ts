/** The OpenAPI document and the admin router describe the same routes, and the document is well formed. */
import { describe, expect, it } from 'vitest';
import { createAdminApiRouter } from '../../src/admin/admin-api.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { adminOpenApi } from '../../src/admin/openapi.js';

/** Route keys such as "GET /admin/api/events/{eventId}" registered on the router, read from Express's stack. */
function routerRoutes(): string[] {
  // Building the router reads nothing from the context; the handlers would, but none runs here.
  const router = createAdminApiRouter({} as AdminContext, 'a-token-of-at-least-24-characters');
  const routes: string[] = [];
  for (const layer of router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${path}`);
  }
  return routes.sort();
}

function documentRoutes(): string[] {
  return Object.entries(adminOpenApi.paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe('admin OpenAPI document', () => {
  it('lists every router route', () => {
    const documented = new Set(documentRoutes());

    expect(routerRoutes().filter((route) => !documented.has(route))).toEqual([]);
  });

  it('lists no route the router lacks', () => {
    const served = new Set(routerRoutes());

    expect(documentRoutes().filter((route) => !served.has(route))).toEqual([]);
  });

  it('is OpenAPI 3.1 with bearer security', () => {
    expect(adminOpenApi.openapi).toBe('3.1.0');
    expect(adminOpenApi.security).toEqual([{ bearerAuth: [] }]);
    expect(adminOpenApi.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents 401 on every operation', () => {
    for (const [path, operations] of Object.entries(adminOpenApi.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys((operation as { responses: object }).responses), `${method} ${path}`).toContain('401');
      }
    }
  });

  it('has unique operation ids', () => {
    const ids = Object.values(adminOpenApi.paths).flatMap((operations) =>
      Object.values(operations).map((operation) => (operation as { operationId: string }).operationId),
    );

    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resolves every schema reference', () => {
    const references = [...JSON.stringify(adminOpenApi).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((match) => match[1]!);
    const schemas = Object.keys(adminOpenApi.components.schemas);

    expect(references.length).toBeGreaterThan(0);
    expect(references.filter((name) => !schemas.includes(name))).toEqual([]);
  });
});
