// Run template page, actions: each add form shows the options of the chosen kind only
// (without JavaScript every kind's options show, and the server reads the chosen one's).

function setUpForm(form) {
  const kind = form.querySelector("[data-action-kind]");
  const sets = [...form.querySelectorAll("fieldset[data-kind]")];
  if (!kind || sets.length === 0) return;
  const show = () => {
    for (const set of sets) {
      const chosen = set.dataset.kind === kind.value;
      set.hidden = !chosen;
      set.disabled = !chosen;
    }
  };
  kind.addEventListener("change", show);
  show();
}

for (const form of document.querySelectorAll("form[data-action-form]")) setUpForm(form);
