import pkg from "../package.json" with { type: "json" };

export const KLINK_VERSION: string = pkg.version;
