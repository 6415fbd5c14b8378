// The page's two questions: "do this to these jobs?" and "which token?".

const LISTED_MAX = 200;

function byId(id) {
  return document.getElementById(id);
}

/** Ask before acting on `jobs`, listing them by name; resolves to true on confirmation. */
export function confirmJobs({ title, text, jobs, ok }) {
  const dialog = byId("confirm");
  byId("confirm-title").textContent = title;
  byId("confirm-text").textContent = text;
  const items = jobs.slice(0, LISTED_MAX).map((name) => {
    const item = document.createElement("li");
    item.textContent = name;
    return item;
  });
  if (jobs.length === 0) {
    const none = document.createElement("li");
    none.className = "more";
    none.textContent = "none, as this page sees them";
    items.push(none);
  }
  if (jobs.length > LISTED_MAX) {
    const more = document.createElement("li");
    more.className = "more";
    more.textContent = `… and ${jobs.length - LISTED_MAX} more`;
    items.push(more);
  }
  byId("confirm-jobs").replaceChildren(...items);
  byId("confirm-ok").textContent = ok;
  return new Promise((resolve) => {
    let confirmed = false;
    byId("confirm-ok").onclick = () => {
      confirmed = true;
      dialog.close();
    };
    byId("confirm-cancel").onclick = () => dialog.close();
    dialog.onclose = () => resolve(confirmed);
    dialog.showModal();
    byId("confirm-cancel").focus();
  });
}

/** Ask for a bearer token (why: `reason`); resolves to what was typed. */
export function askToken(reason) {
  const dialog = byId("token");
  const input = byId("token-input");
  byId("token-reason").textContent = reason;
  input.value = "";
  return new Promise((resolve) => {
    byId("token-form").onsubmit = (event) => {
      event.preventDefault();
      const typed = input.value.trim();
      if (!typed) return;
      dialog.close();
      resolve(typed);
    };
    // Without a token the page can show nothing: Escape does not dismiss the question.
    dialog.oncancel = (event) => event.preventDefault();
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}
