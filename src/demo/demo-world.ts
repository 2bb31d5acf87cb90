/**
 * The people of the demo: agents, clients and favorites built around a set of listings, so that the first
 * listing is favorited by three clients, the second by two, and the rest by one client or none.
 */
import type { RepliersAgent, RepliersClient, RepliersFavorite, RepliersListing } from '../repliers/types.js';
import { ListingsFileError, readListingsFile } from './listings-file.js';

export interface DemoWorld {
  listings: RepliersListing[];
  agents: RepliersAgent[];
  clients: RepliersClient[];
  favorites: RepliersFavorite[];
}

const agentNames: [string, string, string][] = [
  ['Maya', 'Okafor', 'Northgate Realty'],
  ['Luc', 'Bergeron', 'Rideau Home Group'],
];

const clientNames: [string, string][] = [
  ['Ada', 'Lindqvist'],
  ['Ravi', 'Chandran'],
  ['Elena', 'Moretti'],
  ['Tom', 'Whitfield'],
  ['Noor', 'Haddad'],
  ['Sam', 'Keller'],
];

/** Listing indexes each client favorites, by client: listing 0 has three fans, listing 1 two, listing 3 one. */
const favoritesByClient: number[][] = [[0, 1], [0], [0, 3], [1], [4], []];

export function buildDemoWorld(listings: RepliersListing[]): DemoWorld {
  if (listings.length < 5) {
    throw new Error(`the demo needs at least 5 listings; the file has ${listings.length}`);
  }

  const agents: RepliersAgent[] = agentNames.map(([fname, lname, brokerage], index) => ({
    agentId: 101 + index,
    fname,
    lname,
    email: `${fname}.${lname}@agents.example`.toLowerCase(),
    phone: `1613555010${index}`,
    brokerage,
    status: true,
    externalId: `crm-agent-${101 + index}`,
  }));

  const clients: RepliersClient[] = clientNames.map(([fname, lname], index) => ({
    clientId: 5001 + index,
    agentId: agents[index % agents.length]!.agentId,
    fname,
    lname,
    email: `${fname}.${lname}@clients.example`.toLowerCase(),
    phone: `1613555020${index}`,
    status: true,
    preferences: { email: true },
    tags: [],
    externalId: `crm-client-${5001 + index}`,
  }));

  const favorites: RepliersFavorite[] = [];
  let nextId = 90001;
  favoritesByClient.forEach((listingIndexes, clientIndex) => {
    for (const listingIndex of listingIndexes) {
      const listing = listings[listingIndex]!;
      favorites.push({
        ...listing,
        favoriteId: nextId++,
        clientId: clients[clientIndex]!.clientId,
        mlsNumber: listing.mlsNumber,
        boardId: listing.boardId ?? null,
        comments: null,
        tags: [],
      });
    }
  });

  return { listings, agents, clients, favorites };
}

/** The demo world puts favorites on the first five listings. */
const minimumListings = 5;

/** Reads a listings file and builds the demo world on it; a file with fewer than five listings is rejected. */
export async function loadDemoWorld(listingsFile: string): Promise<DemoWorld> {
  const listings = await readListingsFile(listingsFile);
  if (listings.length < minimumListings) {
    throw new ListingsFileError(`the demo needs at least ${minimumListings} listings; ${listingsFile} has ${listings.length}`);
  }
  return buildDemoWorld(listings);
}
