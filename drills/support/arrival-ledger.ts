/**
 * A count of the messages each service received, per delivery key, against the deliveries the drill expects. The key is the one the hub
 * puts in every message: the `X-Hub-Delivery` header of an email, the `hub_delivery` metadata of a Slack message,
 * the `delivery <key>.` line ending a Salesforce Task description.
 */

export type Channel = 'email' | 'slack' | 'salesforce';

export interface ExpectedDelivery {
  key: string;
  channel: Channel;
  /** The webhook that should cause this delivery, for the report. */
  webhook: string;
}

export interface LedgerCounts {
  /** Distinct deliveries expected. */
  expected: number;
  /** Expected deliveries that arrived at least once. */
  arrived: number;
  /** Expected deliveries that never arrived. */
  missing: number;
  /** Deliveries (expected or not) that arrived more than once. */
  duplicated: number;
  /** Arrivals beyond the first, summed over all keys. */
  extraArrivals: number;
  /** Keys that arrived although no delivery was expected under them. */
  unexpected: number;
}

export class ArrivalLedger {
  private readonly arrivals = new Map<string, { channel: Channel; count: number }>();
  private readonly expected = new Map<string, ExpectedDelivery>();

  /** Records one arrival of `key` at a service. */
  arrive(key: string, channel: Channel): void {
    const entry = this.arrivals.get(key);
    if (entry) entry.count += 1;
    else this.arrivals.set(key, { channel, count: 1 });
  }

  expect(delivery: ExpectedDelivery): void {
    this.expected.set(delivery.key, delivery);
  }

  arrivalsOf(key: string): number {
    return this.arrivals.get(key)?.count ?? 0;
  }

  /** True once every expected delivery arrived at least once. */
  complete(): boolean {
    for (const key of this.expected.keys()) if (!this.arrivals.has(key)) return false;
    return true;
  }

  missing(): ExpectedDelivery[] {
    return [...this.expected.values()].filter((delivery) => !this.arrivals.has(delivery.key));
  }

  duplicatedKeys(): Array<{ key: string; channel: Channel; count: number }> {
    return [...this.arrivals].filter(([, entry]) => entry.count > 1).map(([key, entry]) => ({ key, ...entry }));
  }

  counts(): LedgerCounts {
    let arrived = 0;
    for (const key of this.expected.keys()) if (this.arrivals.has(key)) arrived += 1;
    let duplicated = 0;
    let extraArrivals = 0;
    let unexpected = 0;
    for (const [key, entry] of this.arrivals) {
      if (entry.count > 1) {
        duplicated += 1;
        extraArrivals += entry.count - 1;
      }
      if (!this.expected.has(key)) unexpected += 1;
    }
    return { expected: this.expected.size, arrived, missing: this.expected.size - arrived, duplicated, extraArrivals, unexpected };
  }
}
