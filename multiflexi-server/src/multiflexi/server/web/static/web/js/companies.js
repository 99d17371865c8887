// Company form: the slug follows the name as the core would derive it (asked of the
// server, whose rule it is) until someone edits the slug; the chosen logo is previewed.

function setUpSlug(form) {
  const url = form.dataset.slugUrl;
  const name = form.querySelector("#f-name");
  const slug = form.querySelector("#f-slug");
  if (!url || !name || !slug) return;
  let edited = slug.value.trim() !== "";
  let asked = 0;
  slug.addEventListener("input", (event) => {
    if (event.isTrusted) edited = slug.value.trim() !== "";
  });
  let timer = null;
  name.addEventListener("input", () => {
    if (edited) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      const answer = await fetch(`${url}?name=${encodeURIComponent(name.value)}`, {
        headers: { Accept: "text/plain" },
        credentials: "same-origin",
      });
      if (!answer.ok || mine !== asked || edited) return;
      slug.value = await answer.text();
    }, 200);
  });
}

function setUpLogo(form) {
  const input = form.querySelector("#f-logo");
  if (!input) return;
  const preview = document.createElement("img");
  preview.className = "company-logo company-logo-large";
  preview.alt = "";
  preview.hidden = true;
  preview.dataset.testid = "logo-preview";
  input.before(preview);
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file) {
      preview.hidden = true;
      return;
    }
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      preview.src = reader.result;
      preview.hidden = false;
    });
    reader.readAsDataURL(file);
  });
}

for (const form of document.querySelectorAll("#company-form")) {
  setUpSlug(form);
  setUpLogo(form);
}
