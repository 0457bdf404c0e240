import type { Command } from "./command.ts";
import { KLINK_COMMIT, KLINK_VERSION } from "../version.ts";
import { librdkafkaVersion } from "../rdkafka/library.ts";

export const version: Command = {
  name: "version",
  summary: "print klink's version, its git commit and librdkafka's version",
  usage: "klink version\n\nPrints klink's version, the git commit it was built from (\"+dirty\": with local changes)\nand the version of the embedded librdkafka.",
  async run() {
    console.log(`klink ${KLINK_VERSION} (commit ${KLINK_COMMIT}, librdkafka ${librdkafkaVersion()})`);
    return 0;
  },
};
