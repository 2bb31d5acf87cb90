/** The `hub` command line. Each subcommand lives in its own function; errors a user can fix print one line. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSettings, SettingsError } from '../config/settings.js';
import { loadEnvFile, type LoadedEnvFile } from '../config/env-file.js';
import { describeSettings } from '../config/show-config.js';
import { ListingsFileError } from '../demo/listings-file.js';
import { PortUnavailableError } from '../http/port-unavailable.js';
import { RedisUnavailableError } from '../hub.js';
import { StoreUnavailableError } from '../mirror/open-store.js';
import { RuleLoadError } from '../rules/load-rules.js';
import { SourcesFileError } from '../sources/sources-file.js';
import { expectWebhooks, repliersStandInCommand, startCommand, UsageError } from './commands.js';
import { subscribeCommand, syncCommand } from './sync-commands.js';
import { RepliersApiError } from '../repliers/api-client.js';
import { SubscribeUrlError } from '../sync/subscribe-hub.js';
import { checkRules, reloadRules, simulateRules, testRules } from './rules-commands.js';
import { runDemo } from '../demo/run-demo.js';
import { defaultStandInPort } from '../demo/serve-repliers.js';
import { connectorStatusCommand, resumeConnectorCommand } from '../../connectors/connector-commands.js';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return parsed;
}

function portNumber(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return parsed;
}

const program = new Command()
  .name('hub')
  // Options of a parent command end at its subcommand, so `hub demo repliers --listings` reaches the subcommand.
  .enablePositionalOptions()
  .description('Webhook hub for real-estate teams: Repliers events routed by rules to email, Slack, Salesforce and signed webhooks.')
  .showHelpAfterError();

program
  .command('start')
  .description('Run the webhook ingress and the workers (settings come from the environment; see .env.example).')
  .addOption(new Option('--role <role>', 'which part to run').choices(['all', 'api', 'worker']).default('all'))
  .action(async (options: { role: 'all' | 'api' | 'worker' }) => {
    await startCommand(loadSettings(), options.role);
  });

const demo = program
  .command('demo')
  .description('Run a whole demo: a local Repliers stand-in sends real webhooks to a real hub on Redis.')
  .option('--listings <file>', 'a Repliers GET /listings response to build the demo from (default: the bundled sample)')
  .action(async (options: { listings?: string }) => {
    await runDemo({ listingsFile: options.listings });
  });
demo
  .command('repliers')
  .description(
    "Serve only the demo's Repliers API stand-in on 127.0.0.1, with its agents, clients and favorites, until Ctrl-C; " +
      'it prints the REPLIERS_API_URL and REPLIERS_API_KEY that point a hub at it.',
  )
  .option('--port <n>', `port on 127.0.0.1, or 0 for any free port (default: ${defaultStandInPort})`, portNumber)
  .option('--listings <file>', 'a Repliers GET /listings response to build the people from (default: the bundled sample)')
  .action(async (options: { port?: number; listings?: string }, command: Command) => {
    // `hub demo --listings <file> repliers` gives the file to the parent command.
    const listingsFile = options.listings ?? (command.parent?.opts() as { listings?: string } | undefined)?.listings;
    await repliersStandInCommand({ listingsFile, port: options.port });
  });

program
  .command('sync')
  .description('Copy every agent, client and favorite from Repliers into the mirror and repair what differs (needs REPLIERS_API_KEY).')
  .option('--concurrency <n>', 'clients whose favorites are read at the same time (default: SYNC_CONCURRENCY)', positiveInteger)
  .action(async (options: { concurrency?: number }) => {
    process.exitCode = await syncCommand(loadSettings(), options);
  });

program
  .command('subscribe')
  .description('Subscribe this hub with Repliers to the events it needs, one URL path per event; running it again changes nothing.')
  .requiredOption('--url <url>', "the hub's public base URL, such as https://hub.example.com")
  .option('--minutes <n>', 'how long each handshake window stays open, in minutes (default: HANDSHAKE_WINDOW_SECONDS, 5 minutes)', positiveInteger)
  .action(async (options: { url: string; minutes?: number }) => {
    process.exitCode = await subscribeCommand(loadSettings(), options.url, options.minutes);
  });

const webhooks = program.command('webhooks').description('Manage Repliers webhook subscriptions.');
webhooks
  .command('expect')
  .description('Open the handshake window of one or more events, so the next Repliers subscription handshake is accepted.')
  .argument('<events...>', 'event names, such as listing.updated')
  .option('--minutes <n>', 'how long the window stays open, in minutes (default: HANDSHAKE_WINDOW_SECONDS, 5 minutes)', positiveInteger)
  .option('--rotate', 'let the next handshake replace the stored secret; the old one stays valid for HOOK_SECRET_GRACE_SECONDS')
  .action(async (events: string[], options: { minutes?: number; rotate?: boolean }) => {
    await expectWebhooks(loadSettings(), events, options.minutes, { rotate: options.rotate });
  });

const rules = program.command('rules').description('Check and try routing rules.');
rules
  .command('check')
  .description('Validate every rule file and list all problems; exits with 1 when there is any.')
  .option('--dir <folder>', 'rules folder (default: RULES_DIR or ./rules)')
  .action(async (options: { dir?: string }) => {
    process.exitCode = await checkRules(loadSettings(), options.dir);
  });
rules
  .command('reload')
  .description('Check the rules folder, then make every worker process reload its rules (through Redis) and say what each did.')
  .option('--dir <folder>', 'rules folder to check before asking (default: RULES_DIR or ./rules)')
  .option('--wait <seconds>', 'how long to wait for the worker processes to reply', positiveInteger, 5)
  .action(async (options: { dir?: string; wait: number }) => {
    process.exitCode = await reloadRules(loadSettings(), { dir: options.dir, waitSeconds: options.wait });
  });
rules
  .command('test')
  .description('Show how each rule decides on a webhook body, with the values that decided it, and preview the deliveries; sends nothing.')
  .argument('<event-file>', 'a webhook body as Repliers sends it: { "data", "hook" } or an array of resources')
  .option('--event <name>', 'the event name, when the body has no hook.event')
  .option('--dir <folder>', 'rules folder (default: RULES_DIR or ./rules)')
  .option('--json', 'print the full result as JSON')
  .action(async (file: string, options: { event?: string; dir?: string; json?: boolean }) => {
    process.exitCode = await testRules(loadSettings(), file, options);
  });
rules
  .command('simulate')
  .description('Replay the recorded events against candidate rules and list the deliveries they would add or remove; sends nothing.')
  .requiredOption('--since <duration>', 'how far back to replay: 90s, 30m, 24h, 7d, 2w or an ISO date')
  .option('--rules <folder>', 'the candidate rules folder (default: RULES_DIR or ./rules)')
  .option('--live <folder>', 'the live rules folder to compare with (default: RULES_DIR or ./rules)')
  .option('--limit <n>', 'most events replayed, the latest ones', positiveInteger, 10_000)
  .option('--json', 'print the full report as JSON')
  .action(async (options: { since: string; rules?: string; live?: string; limit: number; json?: boolean }) => {
    process.exitCode = await simulateRules(loadSettings(), options);
  });

const connectors = program.command('connectors').description('See and resume the delivery connectors.');
connectors
  .command('status')
  .description('Show each connector queue: running or paused (and why, and until when), with its job counts.')
  .action(async () => {
    await connectorStatusCommand(loadSettings());
  });
connectors
  .command('resume')
  .description('Resume a connector paused by an exhausted API limit or rejected credentials, without waiting for its pause to end.')
  .argument('<name>', 'email, slack, salesforce or webhook')
  .action(async (name: string) => {
    await resumeConnectorCommand(loadSettings(), name);
  });

/** The `.env` file loaded before the command ran, or null; `hub config` names it. */
let envFile: LoadedEnvFile | null = null;

program
  .command('config')
  .description('Print the effective settings (environment, then ./.env, then defaults) with secrets masked and where each came from.')
  .action(() => {
    for (const line of describeSettings(loadSettings(), envFile)) console.log(line);
  });

try {
  envFile = loadEnvFile();
  await program.parseAsync();
} catch (error) {
  if (
    error instanceof RuleLoadError ||
    error instanceof UsageError ||
    error instanceof SettingsError || error instanceof RedisUnavailableError || error instanceof StoreUnavailableError ||
    error instanceof PortUnavailableError ||
    error instanceof ListingsFileError ||
    error instanceof SourcesFileError || error instanceof RepliersApiError || error instanceof SubscribeUrlError) {
    console.error(`hub: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
