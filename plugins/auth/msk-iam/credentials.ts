/**
 * Where klink's AWS credentials come from, in the AWS SDKs' order: the environment, a web identity
 * token file (EKS), the shared credentials and config files (a profile, which may assume a role
 * from a `source_profile`), then the EC2 instance metadata service; and, when `roleArn` is given,
 * the role assumed with them. Temporary credentials are kept until 5 minutes before they expire.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_IMDS_ENDPOINT, ImdsError, imdsCredentials } from "./imds.ts";
import { configFileProfile, credentialsFileProfile, sharedFiles, type Profile } from "./shared-files.ts";
import type { AwsCredentials } from "./sigv4.ts";
import { assumeRole, assumeRoleWithWebIdentity, stsEndpoint } from "./sts.ts";

/** Temporary credentials are fetched anew this long before they expire. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export interface CredentialSettings {
  region: string;
  /** A profile of the shared files to use instead of the environment (default: AWS_PROFILE, then "default"). */
  profile?: string;
  /** A role to assume with the credentials found. */
  roleArn?: string;
  roleSessionName: string;
  /** Overrides the STS endpoint (default AWS_ENDPOINT_URL_STS, then https://sts.<region>.amazonaws.com). */
  stsEndpoint?: string;
  env: Record<string, string | undefined>;
  home: string;
  now: () => number;
}

export class NoCredentialsError extends Error {}

/** Credentials for signing, fetched again before temporary ones expire. */
export class CredentialProvider {
  private cached: AwsCredentials | null = null;

  constructor(private readonly s: CredentialSettings) {}

  async get(): Promise<AwsCredentials> {
    const now = this.s.now();
    if (this.cached && this.cached.expiresAtMs! - now > REFRESH_MARGIN_MS) return this.cached;
    let c: AwsCredentials;
    try {
      c = await this.fetch(now);
    } catch (err) {
      // a failed early refresh: the credentials held still work for a while, and the next refresh retries
      if (this.cached && this.cached.expiresAtMs! > now) return this.cached;
      throw err;
    }
    this.cached = c.expiresAtMs === undefined ? null : c; // long-term ones are read again each time (a rotated file)
    return c;
  }

  private async fetch(now: number): Promise<AwsCredentials> {
    const c = await this.base();
    notExpired(c, now);
    if (!this.s.roleArn) return c;
    const assumed = await assumeRole(c, { endpoint: this.sts(), region: this.s.region, roleArn: this.s.roleArn, sessionName: this.s.roleSessionName, now });
    notExpired(assumed, now);
    return assumed;
  }

  private sts(): string {
    return stsEndpoint(this.s.region, this.s.stsEndpoint ?? this.s.env.AWS_ENDPOINT_URL_STS);
  }

  /** The first source that has credentials; otherwise an error naming each source tried. */
  private async base(): Promise<AwsCredentials> {
    const { env } = this.s;
    const tried: string[] = [];
    const explicitProfile = this.s.profile;
    if (!explicitProfile) {
      const fromEnv = environmentCredentials(env);
      if (fromEnv) return fromEnv;
      tried.push("environment (AWS_ACCESS_KEY_ID not set)");

      if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) return this.webIdentity(env.AWS_WEB_IDENTITY_TOKEN_FILE, env.AWS_ROLE_ARN, env.AWS_ROLE_SESSION_NAME);
      tried.push(`web identity (${env.AWS_WEB_IDENTITY_TOKEN_FILE ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE"} not set)`);
    }

    const profile = explicitProfile ?? env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE ?? "default";
    const files = sharedFiles(env, this.s.home);
    const fromFiles = await this.profileCredentials(profile, files, new Set());
    if (fromFiles) return fromFiles;
    tried.push(`profile ${profile} (not in ${files.credentialsFile} nor ${files.configFile})`);
    if (explicitProfile) throw new NoCredentialsError(`no AWS credentials for profile ${profile}: it is not in ${files.credentialsFile} nor ${files.configFile}`);

    if (env.AWS_EC2_METADATA_DISABLED?.toLowerCase() === "true") {
      tried.push("EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)");
    } else {
      const endpoint = env.AWS_EC2_METADATA_SERVICE_ENDPOINT || DEFAULT_IMDS_ENDPOINT;
      try {
        return await imdsCredentials(endpoint, Number(env.AWS_METADATA_SERVICE_TIMEOUT) || 1);
      } catch (err) {
        if (!(err instanceof ImdsError)) throw err;
        tried.push(`EC2 instance metadata at ${endpoint} (${err.message})`);
      }
    }
    throw new NoCredentialsError(`no AWS credentials found; tried: ${tried.join("; ")}`);
  }

  private webIdentity(tokenFile: string, roleArn: string, sessionName: string | undefined): Promise<AwsCredentials> {
    let webIdentityToken: string;
    try {
      webIdentityToken = readFileSync(tokenFile, "utf8").trim(); // read at every refresh: the kubelet rotates it
    } catch (err) {
      throw new Error(`cannot read the web identity token file ${tokenFile} (AWS_WEB_IDENTITY_TOKEN_FILE): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return assumeRoleWithWebIdentity({ endpoint: this.sts(), roleArn, sessionName: sessionName || this.s.roleSessionName, webIdentityToken, tokenFile });
  }

  /** A profile's static keys, or the role it assumes from its `source_profile` (null: no such profile). */
  private async profileCredentials(name: string, files: ReturnType<typeof sharedFiles>, seen: Set<string>): Promise<AwsCredentials | null> {
    const fromCredentials = credentialsFileProfile(files, name);
    const fromConfig = configFileProfile(files, name);
    const where = (p: Profile) => (p === fromCredentials ? files.credentialsFile : files.configFile);
    for (const p of [fromCredentials, fromConfig]) {
      if (p?.aws_access_key_id) return staticCredentials(p, `profile ${name} in ${where(p)}`);
    }
    const roleArn = fromConfig?.role_arn;
    if (!roleArn) return null;
    const sourceName = fromConfig.source_profile;
    if (!sourceName) throw new Error(`profile ${name} in ${files.configFile} has role_arn but no source_profile (klink supports source_profile only)`);
    if (seen.has(sourceName)) throw new Error(`profile ${name} in ${files.configFile}: source_profile loops back to ${sourceName}`);
    const source = await this.profileCredentials(sourceName, files, new Set([...seen, name]));
    if (!source) throw new NoCredentialsError(`profile ${name} assumes ${roleArn} from source_profile ${sourceName}, which has no credentials in ${files.credentialsFile} nor ${files.configFile}`);
    const now = this.s.now();
    notExpired(source, now);
    return assumeRole(source, { endpoint: this.sts(), region: this.s.region, roleArn, sessionName: fromConfig.role_session_name ?? this.s.roleSessionName, now });
  }
}

function environmentCredentials(env: Record<string, string | undefined>): AwsCredentials | null {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY ?? env.AWS_SECRET_KEY;
  if (!id && !secret) return null;
  if (!id || !secret) throw new NoCredentialsError(`the environment has ${id ? "AWS_ACCESS_KEY_ID but no AWS_SECRET_ACCESS_KEY" : "AWS_SECRET_ACCESS_KEY but no AWS_ACCESS_KEY_ID"}: set both`);
  const expiration = env.AWS_CREDENTIAL_EXPIRATION;
  const expiresAtMs = expiration ? Date.parse(expiration) : undefined;
  if (expiresAtMs !== undefined && Number.isNaN(expiresAtMs)) throw new Error(`AWS_CREDENTIAL_EXPIRATION '${expiration}' is not an ISO 8601 time`);
  return { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}), ...(expiresAtMs !== undefined ? { expiresAtMs } : {}), source: "environment" };
}

function staticCredentials(p: Profile, source: string): AwsCredentials {
  if (!p.aws_secret_access_key) throw new NoCredentialsError(`${source} has aws_access_key_id but no aws_secret_access_key`);
  return { accessKeyId: p.aws_access_key_id!, secretAccessKey: p.aws_secret_access_key, ...(p.aws_session_token ? { sessionToken: p.aws_session_token } : {}), source };
}

/** Expired temporary credentials: AWS refuses them, so say so rather than send a doomed token. */
function notExpired(c: AwsCredentials, now: number): void {
  if (c.expiresAtMs === undefined || c.expiresAtMs > now) return;
  const ago = Math.round((now - c.expiresAtMs) / 1000);
  throw new Error(`the AWS credentials from ${c.source} expired at ${new Date(c.expiresAtMs).toISOString()} (${ago} s ago): their session token is no longer valid; renew them`);
}
