// The dashboard: one long poll keeps the table current; buttons call the Cluster API.
//
// Measured in the browser (read by `make bench` and by anyone with the dev tools open):
// - performance measure "nomad-bridge:render" per update: from the answer's body in hand
//   to the table patched (parse, compare, DOM changes); detail {jobs, changed}.
// - performance mark "nomad-bridge:shown" per update, once the frame with it was painted;
//   detail {jobs: names of the rows changed, index}.

import { ApiError, jobPath, onTokenNeeded, post } from "./api.js";
import { askToken, confirmJobs } from "./dialogs.js";
import { matches, startAllTargets, stopAllTargets, totals } from "./jobs.js";
import { JobTable } from "./rows.js";
import { follow } from "./watch.js";

const RENDER_MEASURE = "nomad-bridge:render";
const SHOWN_MARK = "nomad-bridge:shown";
const KEPT_ENTRIES = 5000; // user-timing entries kept before the oldest are dropped
const DEFAULT_WAIT = "10s"; // each long poll's wait: bounds how late a Nomad outage shows

const $ = (id) => document.getElementById(id);
const table = new JobTable(document.querySelector("#jobs .rows"));
let jobs = [];
let lastGoodAt = null;
let updates = 0;

function clock(epochMs) {
  return new Date(epochMs).toLocaleTimeString();
}

// --- what the page shows ------------------------------------------------------------------

function showTotals() {
  const sum = totals(jobs);
  $("total-jobs").textContent = String(sum.jobs);
  $("total-running").textContent = String(sum.running);
  $("total-failed").textContent = String(sum.failed);
  const shown = table.shownCount();
  $("total-shown").textContent = shown === jobs.length ? "" : `showing ${shown}`;
  $("empty").hidden = shown > 0;
  $("empty").textContent = jobs.length === 0 ? "No job is listed." : "No job matches the filter.";
}

function currentFilter() {
  return {
    name: $("filter-name").value.trim().toLowerCase(),
    status: $("filter-status").value,
    flag: $("filter-flag").value,
  };
}

function applyFilter() {
  const filter = currentFilter();
  table.filter((job) => matches(job, filter));
  showTotals();
}

function onView(view, index, bodyAt) {
  jobs = view;
  const changed = table.update(view);
  showTotals();
  performance.measure(RENDER_MEASURE, {
    start: bodyAt,
    end: performance.now(),
    detail: { jobs: view.length, changed: changed.length },
  });
  // After the next paint: the frame is on screen.
  requestAnimationFrame(() =>
    setTimeout(() => performance.mark(SHOWN_MARK, { detail: { jobs: changed, index } }), 0),
  );
  updates += 1;
  if (updates % KEPT_ENTRIES === 0) {
    performance.clearMeasures(RENDER_MEASURE);
    performance.clearMarks(SHOWN_MARK);
  }
}

function onState(state) {
  const indicator = $("connection");
  indicator.dataset.state = state.state;
  if (state.state === "live") {
    lastGoodAt = Date.now();
    indicator.textContent = "live";
  } else if (state.state === "stale") {
    lastGoodAt = state.since;
    indicator.textContent = `stale since ${clock(state.since)}: the bridge cannot reach Nomad; showing the last view it had`;
  } else {
    const retry = Math.max(1, Math.round(state.retryMs / 1000));
    const since = lastGoodAt === null ? "" : `; showing the view as of ${clock(lastGoodAt)}`;
    indicator.textContent = `reconnecting in ${retry} s (attempt ${state.attempt}): ${describeError(state.error)}${since}`;
  }
}

// --- what the page does ---------------------------------------------------------------------

function describeError(error) {
  if (error instanceof ApiError) return `${error.status} ${error.title}: ${error.detail}`;
  return `the bridge could not be reached (${error.message})`;
}

/** Run one request for `control`: disabled meanwhile, the outcome written to `message`. */
async function act(control, message, work, describe) {
  control.disabled = true;
  message.className = "message busy";
  message.textContent = "…";
  try {
    const result = await work();
    message.className = "message ok";
    message.textContent = describe(result);
    return result;
  } catch (error) {
    message.className = "message error";
    message.textContent = describeError(error);
    return undefined;
  } finally {
    control.disabled = false;
  }
}

const countChanged = (result) => `${result.previousCount} → ${result.count} (${result.path})`;

async function onTableClick(event) {
  const control = event.target.closest("button[data-action]");
  if (!control) return;
  const { row, group } = table.locate(control);
  if (!row) return;
  const name = row.name;
  switch (control.dataset.action) {
    case "start":
      await act(control, row.message, () => post(jobPath("start", name)), (r) => r.result);
      break;
    case "stop":
      if (await confirmJobs({ title: `Stop ${name}?`, text: "Nomad stops its allocations; Start brings it back.", jobs: [name], ok: "Stop" })) {
        await act(control, row.message, () => post(jobPath("stop", name)), (r) => r.result);
      }
      break;
    case "inc":
    case "dec": {
      const delta = control.dataset.action === "inc" ? 1 : -1;
      const body = { jobID: name, taskGroup: group.name, count: delta };
      await act(control, group.message, () => post("jobs/updatecounts", body), countChanged);
      break;
    }
    case "set":
      await setCount(control, row, group);
      break;
    default:
      break;
  }
}

async function setCount(control, row, group) {
  const raw = group.input.value.trim();
  // Whatever was typed goes to the bridge, which says what is wrong with it.
  const count = /^-?\d+$/.test(raw) ? Number(raw) : raw;
  const body = { jobID: row.name, taskGroup: group.name, count };
  const done = await act(control, group.message, () => post("jobs/settaskgroupcount", body), countChanged);
  if (done) group.input.value = "";
}

function onTableKey(event) {
  if (event.key !== "Enter" || !event.target.matches("input.set-value")) return;
  event.target.closest(".group").querySelector("button[data-action=set]").click();
}

function showBulk(summary, results) {
  $("bulk").hidden = false;
  $("bulk-summary").textContent = summary;
  $("bulk-results").replaceChildren(
    ...results.map((entry) => {
      const item = document.createElement("li");
      item.className = entry.status >= 300 ? "failed" : "ok";
      item.dataset.job = entry.job;
      const outcome = entry.status >= 300 ? `${entry.status} ${entry.detail ?? ""}` : entry.result;
      item.append(Object.assign(document.createElement("b"), { textContent: entry.job }), `: ${outcome}`);
      return item;
    }),
  );
}

async function bulk(control, action, targets, question) {
  if (!(await confirmJobs({ ...question, jobs: targets }))) return;
  control.disabled = true;
  $("bulk").hidden = false;
  $("bulk-summary").className = "bulk-summary busy";
  $("bulk-summary").textContent = `${action}: working…`;
  $("bulk-results").replaceChildren();
  try {
    const answer = await post(`jobs/${action}`, undefined);
    $("bulk-summary").className = "bulk-summary ok";
    showBulk(`${action}: ${answer.results.length} job(s) acted on`, answer.results);
  } catch (error) {
    $("bulk-summary").className = "bulk-summary error";
    const results = error instanceof ApiError && Array.isArray(error.body?.results) ? error.body.results : [];
    showBulk(`${action}: ${describeError(error)}`, results);
  } finally {
    control.disabled = false;
  }
}

// --- wiring ---------------------------------------------------------------------------------

onTokenNeeded(askToken);
$("jobs").addEventListener("click", onTableClick);
$("jobs").addEventListener("keydown", onTableKey);
for (const id of ["filter-name", "filter-status", "filter-flag"]) $(id).addEventListener("input", applyFilter);
$("start-all").addEventListener("click", (event) =>
  bulk(event.currentTarget, "startall", startAllTargets(jobs), {
    title: "Start every autostart job that is not running?",
    text: "As this page sees them now; the bridge checks Nomad again and reports each job below.",
    ok: "Start all",
  }),
);
$("stop-all").addEventListener("click", (event) =>
  bulk(event.currentTarget, "stopall", stopAllTargets(jobs), {
    title: "Stop every job that is not stopped?",
    text: "As this page sees them now; the bridge checks Nomad again and reports each job below.",
    ok: "Stop all",
  }),
);

const wait = new URLSearchParams(location.search).get("wait") || DEFAULT_WAIT;
follow({ wait, onView, onState });
