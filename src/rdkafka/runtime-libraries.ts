/**
 * The system libraries the embedded librdkafka links against, and the Debian packages that ship
 * them. When librdkafka cannot be loaded, each is loaded on its own to name the missing ones (the
 * dynamic loader names only the first it misses, and not its package).
 */
import { dlopen } from "bun:ffi";

/**
 * soname → Debian 12 package (Debian 13 and Ubuntu 24.04 name the OpenSSL one libssl3t64), and a
 * symbol of each: bun:ffi opens a library only with at least one symbol (never called here).
 */
export const RUNTIME_LIBRARIES: ReadonlyArray<[soname: string, pkg: string, symbol: string]> = [
  ["libssl.so.3", "libssl3", "OPENSSL_init_ssl"],
  ["libcrypto.so.3", "libssl3", "OPENSSL_init_crypto"],
  ["libsasl2.so.2", "libsasl2-2", "sasl_client_init"],
  ["libzstd.so.1", "libzstd1", "ZSTD_versionNumber"],
  ["liblz4.so.1", "liblz4-1", "LZ4_versionNumber"],
  ["libz.so.1", "zlib1g", "zlibVersion"],
];

/** librdkafka failed to load (exit 2, one line that says what to install). */
export class LibraryLoadError extends Error {
  override name = "LibraryLoadError";
}

/** The runtime libraries that do not load on this machine. */
export function missingRuntimeLibraries(): ReadonlyArray<[soname: string, pkg: string, symbol: string]> {
  return RUNTIME_LIBRARIES.filter(([soname, , symbol]) => {
    try {
      dlopen(soname, { [symbol]: { args: [], returns: "void" } }).close();
      return false;
    } catch {
      return true;
    }
  });
}

/** One line for an operator: what is missing and what to install, or the loader's own words. */
export function libraryLoadError(path: string, err: Error): LibraryLoadError {
  const missing = missingRuntimeLibraries();
  const loader = err.message.replace(/\s*\n\s*/g, " ");
  if (missing.length === 0) {
    return new LibraryLoadError(`cannot load librdkafka from ${path}: ${loader} (rebuild with 'npm run setup', or set KLINK_LIBRDKAFKA to a working librdkafka.so)`);
  }
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  return new LibraryLoadError(
    `cannot load librdkafka: missing runtime ${missing.length === 1 ? "library" : "libraries"} ${missing.map(([so]) => so).join(", ")}; ` +
      `install ${packages.length === 1 ? "the Debian package" : "the Debian packages"} ${packages.join(" ")} (apt-get install ${packages.join(" ")}` +
      `${packages.includes("libssl3") ? "; libssl3t64 instead of libssl3 on Debian 13 and Ubuntu 24.04" : ""})`,
  );
}
