/** The rule format admins write in `rules/*.json`; `rules/README.md` documents it with examples. */
import type { CompiledLogic } from './logic/index.js';

/** The recipients of an action's message. */
export type RuleTarget = 'clients' | 'agents' | { channel: string };

export interface RuleAction {
  connector: string;
  template: string;
  to: RuleTarget;
}

export interface Rule {
  id: string;
  description: string;
  events: string[];
  /** A JSON Logic condition evaluated once per favorite the event concerns. */
  when: unknown;
  actions: RuleAction[];
  disabled: boolean;
  /** The file the rule came from, relative to the rules folder. */
  file: string;
}

export interface CompiledRule extends Rule {
  condition: CompiledLogic;
}

/** A loaded, validated and compiled set of rules; `version` changes whenever any rule file changes. */
export interface RuleSet {
  version: string;
  rules: CompiledRule[];
  /** Enabled rules by event name, in file order. */
  byEvent: Map<string, CompiledRule[]>;
}

/** One problem found while loading rules, located by file, rule id and JSON pointer inside that file. */
export interface RuleProblem {
  file: string;
  ruleId: string | null;
  pointer: string;
  message: string;
}

/**
 * Target kinds by connector: a client has no Slack account, and CRM records are about clients. The outgoing
 * webhook connector posts about clients or agents to its configured URL, or to a named target as a channel.
 */
export const targetsByConnector: Readonly<Record<string, readonly ('clients' | 'agents' | 'channel')[]>> = {
  email: ['clients', 'agents'],
  slack: ['agents', 'channel'],
  salesforce: ['clients'],
  webhook: ['clients', 'agents', 'channel'],
};
