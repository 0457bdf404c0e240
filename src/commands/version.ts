import type { Command } from "./command.ts";
import { KLINK_VERSION } from "../version.ts";
import { librdkafkaVersion } from "../rdkafka/library.ts";

export const version: Command = {
  name: "version",
  summary: "print klink's and librdkafka's versions",
  usage: "klink version\n\nPrints klink's version and the version of the embedded librdkafka.",
  async run() {
    console.log(`klink ${KLINK_VERSION} (librdkafka ${librdkafkaVersion()})`);
    return 0;
  },
};
