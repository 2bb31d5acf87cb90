/** Dependencies of the admin API: the store, the queues, the connectors and the live rules of one hub process. */
import type { Queue } from 'bullmq';
import type { Connector } from '../../connectors/connector.js';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import type { EventJobData } from '../queue/queues.js';
import type { ListingViewOptions } from '../repliers/listing-view.js';
import type { RuleSet } from '../rules/rule.js';

export interface AdminContext {
  store: Store;
  eventsQueue: Queue<EventJobData>;
  /** One queue per connector, by connector name. */
  deliveryQueues: ReadonlyMap<string, Queue>;
  connectors: ReadonlyMap<string, Connector>;
  /** Returns the rule set live in this process. */
  ruleSet: () => RuleSet;
  viewOptions: ListingViewOptions;
  logger: Logger;
}
