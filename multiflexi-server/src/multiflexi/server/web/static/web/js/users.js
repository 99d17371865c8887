// The API tokens page: copy the new token, and never show it again on reload.
//
// The token is in the answer of the POST that made it, and nowhere else. So that a
// reload (or coming back to this entry of the history) asks for the list with a GET
// instead of sending the form again, the entry's address becomes the list's.

const shown = document.getElementById("new-token");
if (shown && window.history && window.history.replaceState) {
  window.history.replaceState(null, "", shown.dataset.listUrl);
}

for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById("copy-status");
    if (!field) {
      return;
    }
    field.focus();
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) {
        status.textContent = button.dataset.copied;
      }
    } catch {
      // no clipboard access (not a secure context, or refused): the text stays selected
      if (status) {
        status.textContent = button.dataset.failed;
      }
    }
  });
}
