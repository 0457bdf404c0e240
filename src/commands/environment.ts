/** The environment variables klink reads, for `klink --help` (the README says the same). */
export const ENVIRONMENT = `Environment:
  KLINK_DEBUG=1            an unforeseen failure prints its stack trace; librdkafka's non-fatal
                           errors are logged as info (not debug) lines, and its own log lines
                           are kept while klink connects (as with -v)
  KLINK_LIBRDKAFKA=PATH    load this librdkafka.so instead of the embedded one
  KLINK_DEBUG_MESSAGES=1   each consumer's close reports consumed messages not yet freed
  KLINK_SOURCE_BOOTSTRAP, KLINK_TARGET_BOOTSTRAP
                           the bootstrap servers of the file \`klink init\` writes without
                           --source/--target (read as \${env:...}, as any variable can be)`;
