/**
 * `hub demo repliers`: the demo's Repliers stand-in on its own, with the demo's agents, clients and favorites, so a
 * hub can be tried by hand without a Repliers account. `hub sync` fills the mirror from it, and a running hub fetches
 * missing clients and agents from it.
 */
import { displayPath } from '../paths.js';
import { formatAddress } from '../repliers/listing-view.js';
import { loadDemoWorld, type DemoWorld } from './demo-world.js';
import { startRepliersStandIn, type RepliersStandIn } from './repliers-stand-in.js';
import { defaultListingsFile } from './run-demo.js';

/** A fixed port, so REPLIERS_API_URL stays the same from one run to the next. The API key is new each run. */
export const defaultStandInPort = 8090;

export interface ServeStandInOptions {
  /** A Repliers GET /listings response to build the agents, clients and favorites on. Default: the bundled sample. */
  listingsFile?: string;
  /** Port on 127.0.0.1; 0 lets the system pick a free one. Default {@link defaultStandInPort}. */
  port?: number;
  /** Receives the description at start and one line per request served. */
  print?: (line: string) => void;
}

/** Lists each favorited listing once, with the ids of its favorites, in the order of the listings file. */
function describeFavoritedListings(world: DemoWorld): string[] {
  const lines: string[] = [];
  for (const listing of world.listings) {
    const favoriteIds = world.favorites
      .filter((favorite) => favorite.mlsNumber === listing.mlsNumber)
      .map((favorite) => favorite.favoriteId);
    if (favoriteIds.length === 0) continue;
    const address = formatAddress(listing.address as Record<string, unknown> | null);
    lines.push(`  ${listing.mlsNumber.padEnd(10)} ${address.padEnd(36)} favoriteIds ${favoriteIds.join(', ')}`);
  }
  return lines;
}

/**
 * Starts the stand-in on 127.0.0.1 and prints its URL, its API key, the settings that point a hub at it and the
 * favorited listings. It serves until its `close` is called.
 *
 * @throws PortUnavailableError when the port is taken, and ListingsFileError for a listings file that cannot be used.
 */
export async function serveRepliersStandIn(options: ServeStandInOptions = {}): Promise<RepliersStandIn> {
  const print = options.print ?? ((line: string) => console.log(line));
  const listingsFile = options.listingsFile ?? defaultListingsFile();
  const world = await loadDemoWorld(listingsFile);
  const standIn = await startRepliersStandIn(world, {
    port: options.port ?? defaultStandInPort,
    onResponse: (request, status) => print(`  ${status} ${request}`),
  });

  print(`Repliers stand-in listening on ${standIn.url}`);
  print(`API key: ${standIn.apiKey}`);
  print(
    `Data from ${displayPath(listingsFile)}: ${world.agents.length} agents, ${world.clients.length} clients, ` +
      `${world.favorites.length} favorites on ${world.listings.length} listings`,
  );
  print('Favorited listings:');
  for (const line of describeFavoritedListings(world)) print(line);
  print('');
  print("To point a hub at it, run this line in the hub's shell:");
  print(`  export REPLIERS_API_URL=${standIn.url} REPLIERS_API_KEY=${standIn.apiKey}`);
  print("or put these two lines in the .env file of the hub's working folder:");
  print(`  REPLIERS_API_URL=${standIn.url}`);
  print(`  REPLIERS_API_KEY=${standIn.apiKey}`);
  print('');
  print('Serving until Ctrl-C or SIGTERM. Requests:');
  return standIn;
}
