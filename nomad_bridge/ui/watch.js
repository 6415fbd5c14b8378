// The page's one long poll: `GET jobs` with the last `waitIndex`, for as long as the page
// is open. Never a request per job: every job's view comes in the one answer, and the
// answer comes only when something changed (or the wait ended).

import { problemOf, request } from "./api.js";

export const LAST_CONTACT_HEADER = "X-Bridge-LastContact";
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15000;

/** Capped exponential backoff with jitter: many pages coming back do not come back at once. */
export function backoffMs(failures) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follow `GET jobs` forever.
 * - `onView(jobs, index, bodyAt)`: a new view (`bodyAt`: performance.now() when its body
 *   had arrived), only when the index moved: an answer at the end of a wait changes nothing.
 * - `onState(state)`: `{state: "live"}`; `{state: "stale", since}` when the bridge answers
 *   but has not heard from Nomad since `since` (epoch ms); `{state: "reconnecting",
 *   retryMs, attempt, error}` when the bridge itself cannot be reached.
 */
export async function follow({ wait, onView, onState }) {
  let index = 0;
  let failures = 0;
  let shown = false;
  for (;;) {
    try {
      const response = await request("GET", `jobs?wait=${encodeURIComponent(wait)}`, {
        headers: { waitIndex: String(index) },
      });
      if (!response.ok) throw await problemOf(response);
      const text = await response.text();
      const bodyAt = performance.now();
      const next = Number(response.headers.get("waitIndex"));
      // The index only goes down when Nomad's did (a restore): this answer is the new view.
      if (!shown || next !== index) onView(JSON.parse(text), next, bodyAt);
      shown = true;
      index = next;
      failures = 0;
      const lastContactMs = Number(response.headers.get(LAST_CONTACT_HEADER) || 0);
      onState(lastContactMs > 0 ? { state: "stale", since: Date.now() - lastContactMs } : { state: "live" });
    } catch (error) {
      failures += 1;
      const retryMs = backoffMs(failures);
      onState({ state: "reconnecting", retryMs, attempt: failures, error });
      await sleep(retryMs);
    }
  }
}
