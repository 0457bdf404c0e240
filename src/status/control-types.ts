/** The operator's commands as the status endpoint hands them to the running link (lifecycle.ts). */

/** An operator's command to the running instance (`klink handoff`, `promote`, `rollback`, `resume`, `failback`, `retire`). */
export interface ControlRequest {
  action: "handoff" | "promote" | "rollback" | "resume" | "failback" | "retire";
  /** A group id, or a topic name or glob (resume: optionally with :PARTITION). */
  name: string;
  force: boolean;
  /** promote and handoff: say what would happen now, change nothing. */
  dryRun?: boolean;
}

export interface ControlAnswer {
  ok: boolean;
  message: string;
}

export type Control = (request: ControlRequest) => Promise<ControlAnswer>;
