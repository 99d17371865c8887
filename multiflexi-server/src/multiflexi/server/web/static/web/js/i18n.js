// The texts the scripts show, in the page's language: the layout writes them into
// <body data-i18n='{...}'> (multiflexi.server.web.base.script_texts), so no text is
// written here and no inline script is needed (the Content-Security-Policy forbids it).

let texts = null;

function all() {
  if (texts === null) {
    try {
      texts = JSON.parse(document.body?.dataset.i18n || "{}");
    } catch {
      texts = {};
    }
  }
  return texts;
}

// the page's language, as <html lang> says it
export function language() {
  return document.documentElement.lang || "en";
}

// a text by its path ("output.follow"), the fallback when the page has none
export function text(path, fallback = "") {
  let node = all();
  for (const key of path.split(".")) node = node?.[key];
  return typeof node === "string" ? node : fallback;
}

// a counted text ("lines", "ago.min") in the plural form of the language for `count`
export function counted(path, count, fallback = "") {
  let forms = all();
  for (const key of path.split(".")) forms = forms?.[key];
  if (!forms || typeof forms !== "object") return fallback.replace("{n}", String(count));
  let category = "other";
  try {
    category = new Intl.PluralRules(language()).select(count);
  } catch {
    // an engine without Intl: the general form
  }
  return (forms[category] ?? forms.other ?? fallback).replace("{n}", String(count));
}

// a job state's name in the page's language (the value itself when it has none)
export function stateName(state) {
  return text(`states.${state}`, state);
}
