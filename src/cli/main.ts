/** The `hub` command line. Each subcommand lives in its own function; errors a user can fix print one line. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSettings, SettingsError } from '../config/settings.js';
import { ListingsFileError } from '../demo/listings-file.js';
import { RedisUnavailableError } from '../hub.js';
import { RuleLoadError } from '../rules/load-rules.js';
import { checkRules, expectWebhooks, startCommand, UsageError } from './commands.js';
import { runDemo } from '../demo/run-demo.js';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return parsed;
}

const program = new Command()
  .name('hub')
  .description('Webhook hub for real-estate teams: Repliers events routed by rules to email, Slack and Salesforce.')
  .showHelpAfterError();

program
  .command('start')
  .description('Run the webhook ingress and the workers (settings come from the environment; see .env.example).')
  .addOption(new Option('--role <role>', 'which part to run').choices(['all', 'api', 'worker']).default('all'))
  .action(async (options: { role: 'all' | 'api' | 'worker' }) => {
    await startCommand(loadSettings(), options.role);
  });

program
  .command('demo')
  .description('Run a whole demo: a local Repliers stand-in sends real webhooks to a real hub on Redis.')
  .option('--listings <file>', 'a Repliers GET /listings answer to build the demo from (default: the bundled sample)')
  .action(async (options: { listings?: string }) => {
    await runDemo({ listingsFile: options.listings });
  });

const webhooks = program.command('webhooks').description('Manage Repliers webhook subscriptions.');
webhooks
  .command('expect')
  .description('Open the handshake window of one or more events, so the next Repliers subscription handshake is accepted.')
  .argument('<events...>', 'event names, such as listing.updated')
  .option('--minutes <n>', 'how long the window stays open', positiveInteger)
  .action(async (events: string[], options: { minutes?: number }) => {
    await expectWebhooks(loadSettings(), events, options.minutes);
  });

const rules = program.command('rules').description('Check and try routing rules.');
rules
  .command('check')
  .description('Validate every rule file and list all problems; exits with 1 when there is any.')
  .option('--dir <folder>', 'rules folder (default: RULES_DIR or ./rules)')
  .action(async (options: { dir?: string }) => {
    process.exitCode = await checkRules(loadSettings(), options.dir);
  });

try {
  await program.parseAsync();
} catch (error) {
  if (
    error instanceof RuleLoadError ||
    error instanceof UsageError ||
    error instanceof SettingsError || error instanceof RedisUnavailableError || error instanceof ListingsFileError) {
    console.error(`hub: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
