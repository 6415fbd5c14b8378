// What the page knows about job views, as pure functions: totals, filters, and which jobs
// a bulk action is about to touch.

export const COUNTERS = ["queued", "starting", "running", "complete", "failed", "lost"];
export const STATUSES = ["running", "pending", "dead"];

/** A summary counter as a number (a view from an older bridge may lack one). */
export function counter(group, name) {
  const value = Number(group.summary && group.summary[name]);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

export function totals(jobs) {
  let running = 0;
  let failed = 0;
  for (const job of jobs) {
    for (const group of job.taskGroups) {
      running += counter(group, "running");
      failed += counter(group, "failed");
    }
  }
  return { jobs: jobs.length, running, failed };
}

/**
 * A dead job with no allocation on record. The view cannot tell a job stopped long ago from
 * one Nomad garbage-collected (listed from its saved definition): both are `dead` with zero
 * counters. Either way `Start` brings it back.
 */
export function withoutAllocations(job) {
  return job.status === "dead" && job.taskGroups.every((g) => COUNTERS.every((c) => counter(g, c) === 0));
}

/** The jobs `startall` acts on, as the SPEC states it: autostart and not running. */
export function startAllTargets(jobs) {
  return jobs.filter((job) => job.autostart && job.status !== "running").map((job) => job.name);
}

/** The jobs `stopall` acts on: every job not stopped (a stopped job ends `dead`). */
export function stopAllTargets(jobs) {
  return jobs.filter((job) => job.status !== "dead").map((job) => job.name);
}

/** `filter`: {name: lower-cased substring, status: "" or a status, flag: "", "autostart", "byCluster" or "none"}. */
export function matches(job, filter) {
  if (filter.name && !job.name.toLowerCase().includes(filter.name)) return false;
  if (filter.status && job.status !== filter.status) return false;
  switch (filter.flag) {
    case "autostart":
      return job.autostart === true;
    case "byCluster":
      return job.byCluster === true;
    case "none":
      return !job.autostart && !job.byCluster;
    default:
      return true;
  }
}
