// The jobs table: one row per job, keyed by name and patched in place. An update touches
// only the rows whose job view changed (compared as JSON text), so with 1,000 jobs a change
// to one costs one row; and since rows are patched, not rebuilt, a half-typed count, a
// disabled button and a message next to it all survive updates.
//
// Every name and value goes into the page as text (textContent, attributes set one by
// one), never as HTML: a job named `<img src=x onerror=alert(1)>` shows as those characters.

import { COUNTERS, STATUSES, counter, withoutAllocations } from "./jobs.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function cell(className) {
  const node = element("div", `cell ${className}`);
  node.setAttribute("role", "cell");
  return node;
}

function button(text, action, label) {
  const node = element("button", action, text);
  node.type = "button";
  node.dataset.action = action;
  node.setAttribute("aria-label", label);
  return node;
}

/** One task group: its count with -1/+1 and set, a bar of its allocations and their numbers. */
class GroupView {
  constructor(jobName, name) {
    this.name = name;
    this.el = element("div", "group");
    this.el.dataset.group = name;
    const head = element("div", "group-head");
    this.count = element("span", "count");
    this.input = element("input", "set-value");
    this.input.type = "number";
    this.input.min = "0";
    this.input.step = "1";
    this.input.placeholder = "count";
    this.input.setAttribute("aria-label", `New count of ${name} in ${jobName}`);
    this.message = element("span", "message");
    head.append(
      element("span", "group-name", name),
      this.count,
      button("−1", "dec", `Remove one from ${name} of ${jobName}`),
      button("+1", "inc", `Add one to ${name} of ${jobName}`),
      this.input,
      button("Set", "set", `Set the count of ${name} in ${jobName}`),
      this.message,
    );
    this.bar = element("div", "bar");
    this.segments = COUNTERS.map((name) => {
      const segment = element("span", `segment ${name}`);
      this.bar.append(segment);
      return segment;
    });
    this.numbers = element("span", "numbers");
    const allocations = element("div", "allocations");
    allocations.append(this.bar, this.numbers);
    this.el.append(head, allocations);
  }

  patch(group) {
    this.count.textContent = String(group.count);
    const parts = [];
    COUNTERS.forEach((name, i) => {
      const value = counter(group, name);
      this.segments[i].hidden = value === 0;
      this.segments[i].style.flexGrow = String(value);
      if (value > 0) parts.push([name, value]);
    });
    this.bar.classList.toggle("none", parts.length === 0);
    this.bar.title = COUNTERS.map((name) => `${name} ${counter(group, name)}`).join(", ");
    this.numbers.replaceChildren(
      ...(parts.length === 0
        ? [element("span", "nothing", "no allocations")]
        : parts.map(([name, value]) => element("span", `number ${name}`, `${value} ${name}`))),
    );
  }
}

/** One job's row. */
class JobRow {
  constructor(name) {
    this.name = name;
    this.json = "";
    this.job = null;
    this.groups = [];
    this.el = element("div", "job");
    this.el.setAttribute("role", "row");
    this.el.dataset.job = name;
    const nameCell = cell("name");
    this.note = element("span", "note");
    nameCell.append(element("span", "job-name", name), this.note);
    this.badge = element("span", "badge");
    const statusCell = cell("status");
    statusCell.append(this.badge);
    this.flags = cell("flags");
    this.groupCell = cell("groups");
    this.message = element("span", "message");
    const actions = cell("actions");
    actions.append(
      button("Start", "start", `Start ${name}`),
      button("Stop…", "stop", `Stop ${name}`),
      this.message,
    );
    this.el.append(nameCell, statusCell, this.flags, this.groupCell, actions);
  }

  patch(job, json) {
    this.job = job;
    this.json = json;
    this.el.dataset.status = job.status;
    this.badge.textContent = job.status;
    this.badge.className = STATUSES.includes(job.status) ? `badge ${job.status}` : "badge";
    this.note.textContent = withoutAllocations(job)
      ? "no allocations: stopped, or collected by Nomad (Start restores it)"
      : "";
    const flags = [["autostart", job.autostart], ["byCluster", job.byCluster]].filter(([, on]) => on);
    this.flags.replaceChildren(
      ...(flags.length === 0
        ? [element("span", "no-flag", "—")]
        : flags.map(([flag]) => element("span", "flag", flag))),
    );
    this.patchGroups(job.taskGroups);
  }

  patchGroups(groups) {
    const same =
      groups.length === this.groups.length && groups.every((group, i) => group.name === this.groups[i].name);
    if (!same) {
      this.groups = groups.map((group) => new GroupView(this.name, group.name));
      this.groupCell.replaceChildren(...this.groups.map((view) => view.el));
    }
    groups.forEach((group, i) => this.groups[i].patch(group));
  }

  group(name) {
    return this.groups.find((view) => view.name === name);
  }
}

export class JobTable {
  constructor(body) {
    this.body = body;
    this.rows = new Map();
    this.visible = () => true;
  }

  /** Bring the table to `jobs` (sorted by name); returns the names of the rows changed. */
  update(jobs) {
    const changed = [];
    const names = new Set(jobs.map((job) => job.name));
    for (const [name, row] of this.rows) {
      if (!names.has(name)) {
        row.el.remove();
        this.rows.delete(name);
        changed.push(name);
      }
    }
    let cursor = this.body.firstElementChild;
    for (const job of jobs) {
      const json = JSON.stringify(job);
      let row = this.rows.get(job.name);
      if (row === undefined) {
        row = new JobRow(job.name);
        this.rows.set(job.name, row);
      }
      if (row.json !== json) {
        row.patch(job, json);
        row.el.hidden = !this.visible(job);
        changed.push(job.name);
      }
      if (row.el === cursor) cursor = cursor.nextElementSibling;
      else this.body.insertBefore(row.el, cursor);
    }
    return changed;
  }

  /** Show only the jobs `visible(job)` accepts, now and after every update. */
  filter(visible) {
    this.visible = visible;
    for (const row of this.rows.values()) row.el.hidden = !visible(row.job);
  }

  shownCount() {
    let shown = 0;
    for (const row of this.rows.values()) if (!row.el.hidden) shown += 1;
    return shown;
  }

  /** The row (and group) an element of the table belongs to. */
  locate(target) {
    const rowEl = target.closest(".job");
    const row = rowEl && this.rows.get(rowEl.dataset.job);
    if (!row) return {};
    const groupEl = target.closest(".group");
    return { row, group: groupEl ? row.group(groupEl.dataset.group) : undefined };
  }
}
