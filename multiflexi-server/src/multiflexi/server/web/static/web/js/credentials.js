// New credential type: "Add a field" appends one more field row (from the page's
// <template>, numbered after the last one); "Remove this field" takes its row away.

function setUpFieldRows(form) {
  const rows = form.querySelector("#type-field-rows");
  const template = form.querySelector("#type-field-template");
  const add = form.querySelector("#add-field");
  if (!rows || !template || !add) return;
  add.hidden = false;
  add.addEventListener("click", () => {
    const index = Number(rows.dataset.nextIndex || rows.children.length);
    rows.dataset.nextIndex = String(index + 1);
    const html = template.innerHTML.replaceAll("__i__", String(index));
    rows.insertAdjacentHTML("beforeend", html);
    const added = rows.lastElementChild;
    const first = added && added.querySelector("input");
    if (first) first.focus();
  });
  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-row]");
    if (!button || !rows.contains(button)) return;
    const row = button.closest(".type-field-row");
    if (row) row.remove();
    add.focus();
  });
}

const form = document.querySelector("#type-form");
if (form) setUpFieldRows(form);
