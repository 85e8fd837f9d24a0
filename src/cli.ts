#!/usr/bin/env node
import { isEnricherError, type ErrorCode } from './errors.js';
import { redactUrlCredentials } from './redact.js';

/**
 * Commands of `news-enricher`, each loaded only when called (`produce` never loads the
 * tokenizer or ONNX Runtime). Each returns its exit code.
 */
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  extract: async (argv) => (await import('./cli/extract.js')).extractCommand(argv),
  run: async (argv) => (await import('./cli/run.js')).runCommand(argv),
  produce: async (argv) => (await import('./cli/produce.js')).produceCommand(argv),
  demo: async (argv) => (await import('./cli/demo.js')).demoCommand(argv),
  'label-studio': async (argv) => (await import('./cli/label-studio.js')).labelStudioCommand(argv),
  'label-studio-export': async (argv) => (await import('./cli/label-studio-export.js')).labelStudioExportCommand(argv),
};

const HELP = `news-enricher <command> [options]

Commands:
  run       the streaming service: Kafka → entities → Elasticsearch + output topic
  produce   publish JSONL lines to a Kafka topic (key = the line's "id")
  extract   enrich JSONL articles from a file or stdin (no Kafka needed)
  demo      local Kafka + Elasticsearch, sample articles through the service (npm run demo)
  label-studio
            a Label Studio ML backend: pre-annotations, and fine-tuning on the annotations
  label-studio-export
            a Label Studio JSON export to GLiNER training JSONL

Each command takes --help.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    const { EXTRACT_USAGE } = await import('./cli/extract-usage.js');
    process.stdout.write(`${HELP}\n\n${EXTRACT_USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    process.stderr.write(`unknown command "${command}"\n\n${HELP}\n`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Start-up failures are reported once, with their stable code, then exit non-zero. Only
    // an error nobody classified (a bug) is INTERNAL, and only then is the stack useful.
    const line = isEnricherError(err)
      ? { level: 'fatal', code: err.code, message: err.message }
      : { level: 'fatal', code: 'INTERNAL' satisfies ErrorCode, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    process.stderr.write(`${redactUrlCredentials(JSON.stringify(line))}\n`);
    process.exitCode = 1;
  },
);
