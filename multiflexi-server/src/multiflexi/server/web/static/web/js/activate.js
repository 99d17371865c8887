// The activation wizard: filtering the application choices as one types, and the cron
// box shown only for the custom interval (the schedule preview itself is htmx's).

function setUpFilter(root) {
  const box = root.querySelector("[data-filter-choices]");
  if (!box) return;
  const list = root.querySelector(box.dataset.filterChoices);
  const none = root.querySelector("#no-match");
  if (!list) return;
  const filter = () => {
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const choice of list.querySelectorAll("[data-filter-text]")) {
      const text = choice.dataset.filterText;
      choice.hidden = !words.every((word) => text.includes(word));
      // a hidden choice is not sent: Next then says to choose one
      const radio = choice.querySelector("input");
      if (choice.hidden && radio) radio.checked = false;
      if (!choice.hidden) shown += 1;
    }
    if (none) none.hidden = shown > 0;
  };
  box.addEventListener("input", filter);
}

function setUpInterval(root) {
  const interval = root.querySelector("#f-interval_code");
  const box = root.querySelector("#cron-box");
  const cron = root.querySelector("#f-cron");
  if (!interval || !box || !cron) return;
  const show = () => {
    // an expression counts only for the custom interval; one with an error stays visible
    box.hidden = interval.value !== "c" && !box.classList.contains("has-error");
    cron.disabled = box.hidden;
  };
  interval.addEventListener("change", show);
  show();
}

document.addEventListener("DOMContentLoaded", () => {
  setUpFilter(document);
  setUpInterval(document);
});
