/** What the router may ask the rule service to do to a job, and why. */
export const JOB_ACTIONS = ['kill', 'downgrade'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

export const ACTION_CAUSES = ['low-utilization', 'running-too-long'] as const;
export type ActionCause = (typeof ACTION_CAUSES)[number];
