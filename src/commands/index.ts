import type { Command } from "./command.ts";
import { version } from "./version.ts";
import { init } from "./init.ts";
import { validate } from "./validate.ts";
import { plan } from "./plan.ts";
import { schema } from "./schema.ts";
import { plugins } from "./plugins.ts";
import { run } from "./run.ts";
import { status } from "./status.ts";
import { verify } from "./verify.ts";
import { offsets } from "./offsets.ts";
import { failback, handoff, promote, resume, retire, rollback } from "./control.ts";
import { completionFor } from "./completion.ts";
import { bench } from "./bench.ts";

/** Every sub-command, in the order `klink --help` lists them. Add new commands here. */
export const commands: Command[] = [init, validate, plan, run, status, handoff, promote, rollback, resume, failback, retire, verify, bench, offsets, schema, plugins, completionFor(() => commands), version];
