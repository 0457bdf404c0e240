import pkg from "../package.json" with { type: "json" };

export const KLINK_VERSION: string = pkg.version;

// Set by scripts/build.sh (`bun build --define`): the git commit the executable was built from,
// with "+dirty" when the tree had local changes. Absent when klink runs from source.
declare const KLINK_BUILD_COMMIT: string | undefined;

export const KLINK_COMMIT: string = typeof KLINK_BUILD_COMMIT === "string" ? KLINK_BUILD_COMMIT : "unknown (not built by scripts/build.sh)";
