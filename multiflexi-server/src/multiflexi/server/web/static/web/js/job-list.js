// The job list: the filter form swaps the table in place (htmx) and keeps the URL short
// (blank filters are left out), so a filtered view can be bookmarked and shared.

function dropBlanks(event) {
  const form = event.detail.elt;
  if (!form || form.id !== "job-filters") return;
  const params = event.detail.parameters;
  for (const name of ["company", "application", "run_template", "launched_by", "trigger", "since", "until"]) {
    const value = params.get ? params.get(name) : params[name];
    if (value === "" || value === null) {
      if (params.delete) params.delete(name);
      else delete params[name];
    }
  }
}

function showRefusals(event) {
  // a refused filter (422) still replaces the table: its message says which field
  if (event.detail.xhr.status === 422 && event.detail.target?.id === "job-table") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.body.addEventListener("htmx:configRequest", dropBlanks);
  document.body.addEventListener("htmx:beforeSwap", showRefusals);
});
