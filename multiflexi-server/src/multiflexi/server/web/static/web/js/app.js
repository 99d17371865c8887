// What every page does in the browser: the theme switch, relative times, confirmations.
// No inline scripts anywhere (the Content-Security-Policy forbids them); the texts come
// from the page (i18n.js), in its language.

import { counted, text } from "./i18n.js";

const THEMES = ["system", "light", "dark"];

function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  document.cookie = `theme=${theme}; path=/; max-age=31536000; SameSite=Lax`;
  const button = document.getElementById("theme-toggle");
  if (button) {
    const label = text(`theme.${theme}`, `Theme: ${theme}`);
    button.setAttribute("aria-label", label);
    button.title = label;
  }
}

function nextTheme() {
  const now = document.documentElement.dataset.theme || "system";
  setTheme(THEMES[(THEMES.indexOf(now) + 1) % THEMES.length]);
}

const UNITS = [
  ["day", 86400],
  ["h", 3600],
  ["min", 60],
  ["s", 1],
];

export function relative(when, now = Date.now()) {
  let seconds = Math.round((when.getTime() - now) / 1000);
  const future = seconds > 0;
  seconds = Math.abs(seconds);
  for (const [unit, size] of UNITS) {
    if (seconds >= size || unit === "s") {
      const count = Math.floor(seconds / size);
      const plain = `${count} ${unit}${unit === "day" && count !== 1 ? "s" : ""}`;
      const fallback = future ? `in ${plain}` : `${plain} ago`;
      return counted(`${future ? "in" : "ago"}.${unit}`, count, fallback);
    }
  }
  return "";
}

function refreshTimes(root = document) {
  for (const node of root.querySelectorAll("time[data-relative]")) {
    const when = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) node.textContent = relative(when);
  }
}

function confirmSubmits(event) {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
}

function toggleMenu() {
  const button = document.getElementById("menu-toggle");
  const menu = document.getElementById("main-menu");
  const open = !menu.classList.contains("open");
  menu.classList.toggle("open", open);
  button.setAttribute("aria-expanded", String(open));
}

document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("menu-toggle")?.addEventListener("click", toggleMenu);
  document.getElementById("theme-toggle")?.addEventListener("click", nextTheme);
  document.addEventListener("submit", confirmSubmits, true);
  refreshTimes();
  setInterval(refreshTimes, 1000);
  document.body.addEventListener("htmx:afterSwap", (event) => refreshTimes(event.target));
});
