/** Counts of one run, logged as one JSON line when the run ends. */
export interface RunSummary {
  dryRun: boolean;
  /** Owner records examined. */
  examined: number;
  /** Owner records the run found stale. */
  suspected: number;
  marked: number;
  cleared: number;
  /** Addresses freed; in a dry run, addresses that would have been freed. */
  freed: number;
  /** Failures: unreadable shards, shards that could not be written, failed requests. */
  errors: number;
  emptyShardsRemoved: number;
  leasesRemoved: number;
  /** Networks with shards that no NetworkAttachmentDefinition uses. */
  unreferencedNetworks: string[];
  /** False when the NetworkAttachmentDefinition CRD is not installed, so no report was made. */
  networkAttachmentDefinitions: boolean;
  durationMs: number;
  /** HTTP requests the run sent to the API server. */
  requests: number;
}

export function emptySummary(dryRun: boolean): RunSummary {
  return {
    dryRun,
    examined: 0,
    suspected: 0,
    marked: 0,
    cleared: 0,
    freed: 0,
    errors: 0,
    emptyShardsRemoved: 0,
    leasesRemoved: 0,
    unreferencedNetworks: [],
    networkAttachmentDefinitions: true,
    durationMs: 0,
    requests: 0,
  };
}

/** Returns true when the run failed, which makes the command exit non-zero. */
export function runFailed(summary: RunSummary): boolean {
  return summary.errors > 0;
}
