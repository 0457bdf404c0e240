/**
 * AWS's shared credentials and config files (~/.aws/credentials, ~/.aws/config, or where
 * AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE say): the settings of one profile. The credentials
 * file names sections `[name]`, the config file `[profile name]` (and `[default]`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type Profile = Record<string, string>;

export interface SharedFiles {
  credentialsFile: string;
  configFile: string;
}

export function sharedFiles(env: Record<string, string | undefined>, home: string): SharedFiles {
  const expand = (p: string) => (p.startsWith("~/") ? join(home, p.slice(2)) : p);
  return {
    credentialsFile: expand(env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws/credentials")),
    configFile: expand(env.AWS_CONFIG_FILE || join(home, ".aws/config")),
  };
}

/** The profile's settings in the credentials file (null: no such file or section). */
export function credentialsFileProfile(files: SharedFiles, profile: string): Profile | null {
  return readIni(files.credentialsFile)?.[profile] ?? null;
}

/** The profile's settings in the config file (null: no such file or section). */
export function configFileProfile(files: SharedFiles, profile: string): Profile | null {
  const ini = readIni(files.configFile);
  if (!ini) return null;
  return ini[`profile ${profile}`] ?? (profile === "default" ? ini.default ?? null : null);
}

function readIni(path: string): Record<string, Profile> | null {
  if (!existsSync(path)) return null;
  const sections: Record<string, Profile> = {};
  let current: Profile | null = null;
  for (const raw of readFileSync(path, "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      current = sections[section[1]!.replace(/\s+/g, " ")] ??= {};
    } else if (current && /^\S/.test(raw)) {
      // indented lines continue a nested setting (s3 = ...); klink needs none of those
      const eq = line.indexOf("=");
      if (eq > 0) current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
    }
  }
  return sections;
}
