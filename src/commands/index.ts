import type { Command } from "./command.ts";
import { version } from "./version.ts";

/** Every sub-command, in the order `klink --help` lists them. Add new commands here. */
export const commands: Command[] = [version];
