/** Event names Repliers can deliver, one webhook subscription (and so one URL path) each. */
export const repliersEvents = [
  'agent.created',
  'agent.updated',
  'agent.deleted',
  'client.created',
  'client.updated',
  'client.deleted',
  'search.created',
  'search.updated',
  'search.deleted',
  'search.match.created',
  'search.match.updated',
  'message.created',
  'message.updated',
  'message.deleted',
  'listing.created',
  'listing.updated',
  'listing.deleted',
  'favorite.created',
  'favorite.deleted',
] as const;

export type RepliersEvent = (typeof repliersEvents)[number];

export function isRepliersEvent(name: string): name is RepliersEvent {
  return (repliersEvents as readonly string[]).includes(name);
}
