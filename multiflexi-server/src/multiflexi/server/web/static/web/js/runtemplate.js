// Run template page: the cron helper (five inputs that compose the expression and
// follow it), and the cron box shown only for the custom interval. The schedule
// preview itself is htmx's (hx-get on #schedule-preview).

const PARTS = 5;

function partsOf(expression) {
  const words = expression.trim().split(/\s+/).filter(Boolean);
  return words.length === PARTS ? words : null;
}

function setUpCron(root) {
  const cron = root.querySelector("#f-cron");
  const parts = [...root.querySelectorAll("[data-cron-part]")];
  if (!cron || parts.length !== PARTS) return;

  const fromExpression = () => {
    const words = partsOf(cron.value);
    parts.forEach((input, index) => {
      input.value = words ? words[index] : "";
    });
  };
  const toExpression = () => {
    cron.value = parts.map((input) => input.value.trim() || "*").join(" ");
    cron.dispatchEvent(new Event("input", { bubbles: true }));
  };
  cron.addEventListener("input", (event) => {
    if (event.isTrusted) fromExpression();
  });
  for (const input of parts) input.addEventListener("input", toExpression);
  fromExpression();
}

function setUpInterval(root) {
  const interval = root.querySelector("#f-interval_code");
  const box = root.querySelector("#cron-box");
  const cron = root.querySelector("#f-cron");
  if (!interval || !box || !cron) return;
  const show = () => {
    const custom = interval.value === "c";
    // the expression counts only for the custom interval (the core refuses it otherwise)
    box.hidden = !custom;
    cron.disabled = !custom;
  };
  interval.addEventListener("change", show);
  show();
}

document.addEventListener("DOMContentLoaded", () => {
  setUpCron(document);
  setUpInterval(document);
});
