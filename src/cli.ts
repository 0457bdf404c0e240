#!/usr/bin/env bun
import { commands } from "./commands/index.ts";
import { EXIT_USER, EXIT_RUNTIME } from "./commands/command.ts";
import { RuntimeError, UserError } from "./errors.ts";
import { KafkaError } from "./rdkafka/errors.ts";
import { log } from "./log.ts";
import { LibraryLoadError } from "./rdkafka/runtime-libraries.ts";
import { exitProcess } from "../plugins/exit-guard.ts";
import { ENVIRONMENT } from "./commands/environment.ts";

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "klink: zero-downtime Kafka cluster migration",
    "",
    "Usage: klink COMMAND [ARGS...]     klink COMMAND --help for details",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  --help, -h      show this help",
    "  --version, -V   print klink's version, its git commit and librdkafka's version",
    "",
    ENVIRONMENT,
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  log.reset();
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    console.log(help());
    return first === undefined ? EXIT_USER : 0;
  }
  const name = first === "--version" || first === "-V" ? "version" : first;
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`klink: unknown command '${first}'\n\n${help()}`);
    return EXIT_USER;
  }
  const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest; // after --, "--help" is a file name
  if (options.includes("--help") || options.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    // through the logger: redacted, and JSON with --log-format json
    if (err instanceof UserError) {
      log.report("error", `klink ${command.name}: ${err.message}`);
      return EXIT_USER;
    }
    if (err instanceof KafkaError || err instanceof RuntimeError || err instanceof LibraryLoadError) {
      log.report("error", `klink ${command.name}: ${err.message}`);
      return EXIT_RUNTIME;
    }
    // anything else is a failure klink did not foresee: one line, the stack only on request
    if (process.env.KLINK_DEBUG) console.error(err);
    log.report("error", `klink ${command.name}: ${oneLine(err)}${process.env.KLINK_DEBUG ? "" : " (KLINK_DEBUG=1 shows where)"}`);
    return EXIT_RUNTIME;
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
  return text.replace(/\s*\n\s*/g, " ").slice(0, 1000);
}

if (import.meta.main) {
  // Exit explicitly: a client that is still closing (a group member's socket, a timer) must not
  // keep a finished command alive.
  exitProcess(await main(process.argv.slice(2)));
}
